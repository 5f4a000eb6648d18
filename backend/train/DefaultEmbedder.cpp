#include "DefaultEmbedder.h"

#include <filesystem>

#include "runtime/ModelPackage.h"

namespace loupe::train {
namespace fs = std::filesystem;

namespace {
Result<std::string> findById(const std::string& id, std::string& searched) {
  const auto paths = runtime::defaultModelSearchPaths();
  for (const auto& listing : runtime::listModelPackages(paths))
    if (listing.package.ok() && listing.package->id == id) return listing.folder;
  for (const auto& p : paths) searched += (searched.empty() ? "" : ", ") + p;
  return Error{ErrorCode::NotFound, "no model package '" + id + "'"};
}
}  // namespace

Result<std::string> defaultEmbedderFolder() {
  std::string searched;
  if (auto found = findById(kDefaultEmbedderId, searched)) return found;
#ifdef LOUPE_BUNDLED_MODEL_DIR
  const fs::path bundled = fs::path(LOUPE_BUNDLED_MODEL_DIR) / "fmnist-embedder";
  std::error_code ec;
  if (fs::exists(bundled / runtime::kModelManifestName, ec)) return bundled.string();
  searched += ", " + bundled.string();
#endif
  return Error{ErrorCode::NotFound, std::string("The default embedder (") + kDefaultEmbedderId +
                                        ") is not installed (searched " + searched +
                                        "); train one with loupe-cli train embeddings or pass --model FOLDER"};
}

Result<std::string> resolveEmbedderPackage(const std::string& nameOrPath) {
  if (nameOrPath.empty() || nameOrPath == "default") return defaultEmbedderFolder();
  std::error_code ec;
  if (fs::exists(nameOrPath, ec)) return nameOrPath;
  std::string searched;
  auto found = findById(nameOrPath, searched);
  if (found) return found;
  return Error{ErrorCode::NotFound, "'" + nameOrPath + "' is neither a model package folder nor the id of an installed "
                                        "package (searched " + searched + ")"};
}

}  // namespace loupe::train
