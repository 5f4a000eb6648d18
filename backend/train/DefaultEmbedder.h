#pragma once
// The default embedder of the Fashion-MNIST demo: the native package Loupe trained itself and ships in
// resources/models/fmnist-embedder (installed to <prefix>/share/loupe/models/fmnist-embedder), id
// "fashion-mnist-embedder". `loupe-cli embed --model default` and the explorer resolve "default" here.

#include <string>

#include "core/Result.h"

namespace loupe::train {

constexpr const char* kDefaultEmbedderId = "fashion-mnist-embedder";

// The folder of the default embedder: a package with that id on the model search path ($LOUPE_MODEL_PATH,
// ~/.local/share/loupe/models, /usr/share/loupe/models) first, then the one in this source tree's
// resources/models. NotFound (with the places searched) when there is none.
Result<std::string> defaultEmbedderFolder();

// "default" -> defaultEmbedderFolder(); an existing folder or .zip -> itself; otherwise a package id on the
// model search path.
Result<std::string> resolveEmbedderPackage(const std::string& nameOrPath);

}  // namespace loupe::train
