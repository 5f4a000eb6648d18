#include "ClassicTasks.h"
#include "core/Sha256.h"
#include "forensics/PerceptualHash.h"
#include "io/ImageReader.h"

namespace loupe::forgery {

Result<std::vector<Layer>> HashesTask::run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                           sdk::TaskContext& context) {
  const Image& image = input.image;
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "No image to hash"};
  context.progress.report(0.0, "Hashing");
  Table table;
  table.columns = {"hash", "value", "note"};
  if (!image.source.path.empty()) {
    std::string sha = image.source.sha256;
    if (sha.empty()) {
      auto computed = Sha256::ofFile(image.source.path);
      if (!computed) return computed.error();
      sha = *computed;
    }
    table.rows.push_back({"sha256_file", sha, "of the file's bytes: identifies this exact file"});
  }
  table.rows.push_back({"sha256_pixels", Sha256::hex(image.data(), image.byteSize()),
                        std::string("of the decoded pixels (") + pixelDepthName(image.depth()) + " " +
                            colorOrderName(image.order()) + ", orientation applied): survives metadata edits"});
  if (context.cancel.isCancelled()) return Error::cancelled();
  auto hashes = forensics::perceptualHashes(image);
  if (!hashes) return hashes.error();
  table.rows.push_back({"phash", forensics::hashHex(hashes->pHash), "DCT hash: robust to re-compression and resizing"});
  table.rows.push_back({"dhash", forensics::hashHex(hashes->dHash), "gradient hash"});
  table.rows.push_back({"ahash", forensics::hashHex(hashes->aHash), "average hash"});

  const std::string other = sdk::paramString(params, "compare_with");
  if (!other.empty()) {
    context.progress.report(0.5, "Hashing " + other);
    auto loaded = io::loadImage(other);
    if (!loaded) return loaded.error().withContext("Reading the comparison image " + other);
    auto otherHashes = forensics::perceptualHashes(*loaded);
    if (!otherHashes) return otherHashes.error();
    auto row = [&](const char* name, std::uint64_t a, std::uint64_t b) {
      const int d = forensics::hammingDistance(a, b);
      table.rows.push_back({std::string(name) + "_distance", std::to_string(d),
                            std::string("bits of 64 differing from ") + other +
                                (d <= 8 ? " (same picture)" : d <= 16 ? " (similar)" : " (different pictures)")});
    };
    row("phash", hashes->pHash, otherHashes->pHash);
    row("dhash", hashes->dHash, otherHashes->dHash);
    row("ahash", hashes->aHash, otherHashes->aHash);
  }
  std::vector<Layer> layers;
  layers.push_back({"hashes", "File and perceptual hashes", std::move(table)});
  context.progress.report(1.0, "Done");
  return layers;
}

}  // namespace loupe::forgery
