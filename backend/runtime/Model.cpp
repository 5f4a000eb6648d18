#include "Model.h"

#include <dlfcn.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "TorchScriptModel.h"

namespace loupe::runtime {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<ModelFormat, ModelLoader> loaders;
};
Registry& registry() {
  static Registry r;
  return r;
}

ModelLoader findLoader(ModelFormat format) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.loaders.find(format);
  return it == r.loaders.end() ? ModelLoader() : it->second;
}

// The ONNX loader lives in its own library (it needs OpenCV): load it from beside this library once; its
// static initialiser registers the loader. Returns why not when it cannot be loaded.
std::string loadOnnxModule() {
  static std::once_flag once;
  static std::string problem;
  std::call_once(once, [] {
    Dl_info info{};
    if (!dladdr(reinterpret_cast<void*>(&loadModel), &info) || !info.dli_fname) {
      problem = "cannot locate libloupe_runtime";
      return;
    }
    const auto lib = std::filesystem::path(info.dli_fname).parent_path() / "libloupe_runtime_onnx.so";
    if (!std::filesystem::exists(lib)) {
      problem = "this Loupe was built without ONNX support (libloupe_runtime_onnx, which needs OpenCV's dnn module)";
      return;
    }
    if (!dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
      const char* why = dlerror();
      problem = "cannot load " + lib.string() + ": " + (why ? why : "unknown error");
    }
  });
  return problem;
}

const bool kTorchScriptRegistered = [] {
  registerModelLoader(ModelFormat::TorchScript,
                      [](const ModelPackage& p, const torch::Device& d) -> Result<std::unique_ptr<Model>> {
                        auto m = TorchScriptModel::load(p, d);
                        if (!m) return m.error();
                        return std::unique_ptr<Model>(new TorchScriptModel(std::move(*m)));
                      });
  return true;
}();

}  // namespace

Result<void> Model::setPrecision(torch::ScalarType precision) {
  if (precision == torch::kFloat32) return {};
  return Error{ErrorCode::InvalidArgument, package().id + " (" + modelFormatName(package().format) +
                                               ") runs in float32 only"};
}

void registerModelLoader(ModelFormat format, ModelLoader loader) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.loaders[format] = std::move(loader);
}

Result<std::unique_ptr<Model>> loadModel(const ModelPackage& package, const torch::Device& device) {
  (void)kTorchScriptRegistered;
  ModelLoader loader = findLoader(package.format);
  std::string why;
  if (!loader && package.format == ModelFormat::Onnx) {
    why = loadOnnxModule();
    loader = findLoader(package.format);
  }
  if (!loader)
    return Error{ErrorCode::UnsupportedFormat,
                 package.id + " is a " + modelFormatName(package.format) + " model, but " +
                     (why.empty() ? std::string("no loader for that format is available in this build") : why)};
  return loader(package, device);
}

}  // namespace loupe::runtime
