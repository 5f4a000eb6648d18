#pragma once
// A model package: a folder (or a .zip of one) with loupe-model.json plus the weight files it lists. The manifest says
// what the model is (id, task, format), how to feed it (input spec), what comes out (output spec),
// and where it came from (licence, citation, provenance). Every file's SHA-256 is checked on load.

#include <optional>
#include <string>
#include <vector>

#include "core/Result.h"

namespace loupe::runtime {

constexpr int kModelSchemaVersion = 1;
constexpr const char* kModelManifestName = "loupe-model.json";

enum class ModelFormat { TorchScript, Onnx, Native, Tfjs };
const char* modelFormatName(ModelFormat f);

struct SizePolicy {
  enum class Kind { Any, Fixed, MultipleOf, SlidingWindow };
  Kind kind = Kind::Any;
  int width = 0, height = 0, depth = 0;  // Fixed / SlidingWindow (depth for NCDHW)
  int multiple = 1;                      // MultipleOf
  double overlap = 0.25;                 // SlidingWindow: fraction of the window shared with neighbours
};

struct InputSpec {
  // image: a tensor laid out as `layout`; tokens: int64 token ids [N, contextLength] (a text encoder; the
  // tokenizer's vocabulary file, if any, is one of the package's files); vectors: one float32 [N, dims[i]]
  // tensor per entry of `dims` (e.g. a head that combines two embeddings).
  std::string kind = "image";  // image | tokens | vectors
  int contextLength = 0, vocabSize = 0;  // tokens
  std::string tokenizer;                 // tokens: file name in `files`, may be empty
  std::vector<int> dims;                 // vectors
  std::string layout = "NCHW";  // NCHW | NCDHW | NHWC (TF.js graph models)
  int channels = 3;
  std::string colorOrder = "rgb";  // rgb | bgr | gray | any
  SizePolicy size;
  std::string dtype = "float32";   // float32 | float16 | bfloat16
  double scale = 1.0 / 255.0;
  std::vector<double> mean, std;
};

struct OutputSpec {
  std::string name;
  std::string kind;  // logits | probabilities | heatmap | per_pixel_features | embedding | boxes | polylines | volume
  std::vector<long> shape;  // -1 = any size in that dimension; empty = not checked
};

struct PackageFile {
  std::string path;    // relative to the package folder
  std::string sha256;  // hex, lower case
};

struct ModelPackage {
  std::string folder;   // absolute; for a zipped package opened for use, its unpacked copy in the cache
  std::string archive;  // the .zip it came from (absolute), empty for a folder
  int schema = kModelSchemaVersion;
  std::string id, name, version, task;
  ModelFormat format = ModelFormat::TorchScript;
  std::string entry;  // main weight file, one of `files`
  std::vector<PackageFile> files;
  InputSpec input;
  std::vector<OutputSpec> outputs;
  std::vector<std::string> labels;
  std::vector<std::string> precisions = {"float32"};  // what the model may run in on CUDA
  std::string licence, citation, provenance, description;

  std::string entryPath() const;
};

// Parses and validates the manifest text strictly (unknown keys and missing fields are errors that name
// the field). Does not touch the weight files.
Result<ModelPackage> parseModelManifest(const std::string& jsonText, const std::string& folder);
// Reads `folder`/loupe-model.json, validates it, and (unless verifyFiles is false) checks that every listed
// file exists and has its SHA-256, and that the entry file really is of the declared format.
// `folder` may also be a .zip holding the package (at its root or in one top folder): without verifyFiles
// only the manifest is read (in memory); with it the archive is unpacked once into the package cache
// (keyed by the zip's SHA-256, see packageCacheDir) and the unpacked files are checked as above.
Result<ModelPackage> openModelPackage(const std::string& folder, bool verifyFiles = true);
// Where zipped packages are unpacked: $LOUPE_CACHE_DIR, else $XDG_CACHE_HOME/loupe, else ~/.cache/loupe;
// then /packages.
std::string packageCacheDir();
// Errors when the package serves another task.
Result<void> checkPackageTask(const ModelPackage& package, const std::string& taskId);

// What a weight file is, judged from its bytes (never by unpickling it).
enum class WeightFileKind { TorchScript, PythonPickle, TorchCheckpoint, Onnx, Unknown };
WeightFileKind sniffWeightFile(const std::string& path);
// A message that says why a pickled checkpoint is refused and how to export it.
std::string pickleRefusal(const std::string& path);

// Model folders: $LOUPE_MODEL_PATH (colon-separated), ~/.local/share/loupe/models, /usr/share/loupe/models.
std::vector<std::string> defaultModelSearchPaths();
// Every sub-folder holding a loupe-model.json and every .zip, checked without hashing (fast); broken ones
// included.
struct PackageListing {
  std::string folder;
  Result<ModelPackage> package;
};
std::vector<PackageListing> listModelPackages(const std::vector<std::string>& searchPaths);

}  // namespace loupe::runtime
