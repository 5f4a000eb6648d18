#include "TaskRunner.h"

#include <algorithm>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/Device.h"
#include "io/ImageReader.h"
#include "io/ImageWriter.h"
#ifdef LOUPE_HAVE_VOLUME
#include "volume/Study.h"
#include "volume/VolumeIO.h"
#endif

namespace loupe::host {
namespace fs = std::filesystem;

std::string loupeVersion() { return LOUPE_VERSION; }

Result<RunPlan> planRun(PluginHost& host, const RunRequest& request, RunStage* failedStage) {
  auto fail = [&](RunStage stage, Error e) -> Result<RunPlan> {
    if (failedStage) *failedStage = stage;
    return e;
  };
  RunPlan plan;
  const TaskRef ref = host.findTask(request.taskId);
  if (!ref.spec) {
    std::string known;
    for (const auto& t : host.tasks()) known += (known.empty() ? "" : ", ") + t.spec->id;
    return fail(RunStage::Usage, {ErrorCode::NotFound, "Unknown task '" + request.taskId + "'" +
                                                           (known.empty() ? " (no plugins found)" : " (available: " + known + ")")});
  }
  plan.spec = *ref.spec;
  plan.pluginId = ref.plugin->manifest.id;
  plan.pluginVersion = ref.plugin->manifest.version;
  const auto takes = [&](const char* kind) {
    return std::find(plan.spec.inputs.begin(), plan.spec.inputs.end(), kind) != plan.spec.inputs.end();
  };
  const bool takesStudy = takes("volume_study") && !takes("image");
  if (!takes("image") && !takesStudy)
    return fail(RunStage::Usage, {ErrorCode::InvalidArgument, "Task " + plan.spec.id + " does not take a single image or a study"});

  auto params = plan.spec.resolve(request.params);
  if (!params) return fail(RunStage::Usage, params.error());
  plan.params = std::move(*params);

  auto device = DeviceRequest::parse(request.device);
  if (!device) return fail(RunStage::Usage, device.error());
  plan.device = *device;
  auto resolved = resolveDevice(plan.device);
  if (!resolved) return fail(RunStage::Device, resolved.error());
  plan.deviceName = resolved->str();

  if (takesStudy) {
#ifdef LOUPE_HAVE_VOLUME
    std::vector<std::string> paths;
    std::string rest = request.inputPath;
    for (std::size_t at; (at = rest.find(',')) != std::string::npos; rest = rest.substr(at + 1))
      if (at > 0) paths.push_back(rest.substr(0, at));
    if (!rest.empty()) paths.push_back(rest);
    auto study = volume::loadStudy(paths);
    if (!study) return fail(RunStage::Input, study.error());
    plan.study = std::move(*study);
#else
    return fail(RunStage::Input, {ErrorCode::UnsupportedFormat,
                                  "This build of Loupe cannot read MRI studies (it was built without ITK)"});
#endif
  } else {
    auto image = io::loadImage(request.inputPath);
    if (!image) return fail(RunStage::Input, image.error());
    plan.input = std::move(*image);
  }

  auto task = host.createTask(plan.spec.id);
  if (!task) return fail(RunStage::Plugin, task.error());
  plan.task = std::move(*task);
  return plan;
}

Result<RunOutcome> executeRun(RunPlan& plan, const CancelToken& cancel, const Progress& progress) {
  sdk::TaskContext context{cancel, progress, plan.device, {}};
  sdk::TaskInput input{plan.input, plan.study};
  const auto start = std::chrono::steady_clock::now();
  Result<std::vector<Layer>> layers = Error{ErrorCode::Internal, "task did not run"};
  try {
    layers = plan.task->run(input, plan.params, context);
  } catch (const std::exception& e) {
    return Error{ErrorCode::Internal, "Task " + plan.spec.id + " failed unexpectedly: " + e.what()};
  } catch (...) {
    return Error{ErrorCode::Internal, "Task " + plan.spec.id + " failed unexpectedly"};
  }
  if (!layers) return layers.error();
  if (cancel.isCancelled()) return Error::cancelled();
  // The manifest is a promise menus, the CLI and reports rely on: a task returns only the kinds it declares.
  for (const Layer& layer : *layers) {
    const auto& declared = plan.spec.outputs;
    if (std::find(declared.begin(), declared.end(), layer.kind()) == declared.end())
      return Error{ErrorCode::Internal, "Task " + plan.spec.id + " returned a " + layer.kind() + " layer ('" + layer.id +
                                            "') that its manifest does not declare; the plugin is faulty"};
  }
  RunOutcome outcome;
  outcome.layers = std::move(*layers);
  outcome.volumes = std::move(context.volumes);
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

nlohmann::json describeRun(const RunPlan& plan, const RunOutcome& outcome,
                           const std::vector<std::vector<std::string>>& layerFiles) {
  using nlohmann::json;
  const Image& in = plan.input;
  json params = json::object();
  for (const auto& [k, v] : plan.params) {
    if (const auto* b = std::get_if<bool>(&v)) params[k] = *b;
    else if (const auto* i = std::get_if<std::int64_t>(&v)) params[k] = *i;
    else if (const auto* d = std::get_if<double>(&v)) params[k] = *d;
    else params[k] = std::get<std::string>(v);
  }
  json layers = json::array();
  for (std::size_t i = 0; i < outcome.layers.size(); ++i) {
    const Layer& l = outcome.layers[i];
    json j = {{"id", l.id}, {"title", l.title}, {"kind", l.kind()}};
    if (i < layerFiles.size()) {
      json files = json::array();
      for (const auto& f : layerFiles[i]) files.push_back(fs::path(f).filename().string());
      j["files"] = files;
    }
    if (const auto* h = std::get_if<Heatmap>(&l.payload)) {
      j["width"] = h->width;
      j["height"] = h->height;
      j["range"] = {h->rangeMin, h->rangeMax};
      j["colormap"] = colormapName(h->colormap);
      j["unit"] = h->unit;
    } else if (const auto* t = std::get_if<Table>(&l.payload)) {
      j["columns"] = t->columns;
      j["rows"] = t->rows;
    } else if (const auto* lm = std::get_if<LabelMap>(&l.payload)) {
      j["width"] = lm->width;
      j["height"] = lm->height;
      j["labels"] = lm->labels.size();
    } else if (const auto* p = std::get_if<Polylines>(&l.payload)) {
      j["count"] = p->lines.size();
    } else if (const auto* b = std::get_if<Boxes>(&l.payload)) {
      j["count"] = b->boxes.size();
    } else if (const auto* k = std::get_if<Points>(&l.payload)) {
      j["count"] = k->points.size();
    }
    layers.push_back(j);
  }
  json volumes = json::array();
  for (std::size_t i = 0; i < outcome.volumes.size(); ++i) {
    const Volume& v = outcome.volumes[i].volume;
    json j = {{"id", outcome.volumes[i].id},
              {"title", outcome.volumes[i].title},
              {"size", v.size},
              {"spacing", v.spacing},
              {"origin", v.origin},
              {"direction", v.direction}};
    if (i + outcome.layers.size() < layerFiles.size()) j["files"] = json::array({fs::path(layerFiles[i + outcome.layers.size()].front()).filename().string()});
    volumes.push_back(j);
  }
  json study = json::array();
  for (const auto& [name, v] : plan.study.sequences) {
    study.push_back({{"name", name},
                     {"description", v.description},
                     {"size", v.size},
                     {"spacing", v.spacing},
                     {"origin", v.origin},
                     {"direction", v.direction},
                     {"warnings", v.warnings}});
  }
  json doc = {{"loupe_version", loupeVersion()},
          {"task", plan.spec.id},
          {"task_title", plan.spec.title},
          {"plugin", {{"id", plan.pluginId}, {"version", plan.pluginVersion}}},
          {"input",
           {{"path", in.source.path},
            {"sha256", in.source.sha256},
            {"format", in.source.format},
            {"width", in.width()},
            {"height", in.height()},
            {"channels", in.channels()},
            {"depth", pixelDepthName(in.depth())},
            {"exif_orientation", in.source.exifOrientation},
            {"warnings", in.source.warnings}}},
          {"parameters", params},
          {"device", plan.deviceName},
          {"seconds", outcome.seconds},
          {"layers", layers}};
  if (!plan.study.sequences.empty()) {
    doc["input"] = {{"path", plan.study.path}, {"kind", "volume_study"}, {"sequences", study}};
  }
  if (!outcome.volumes.empty()) doc["volumes"] = volumes;
  return doc;
}

Result<nlohmann::json> writeRun(const RunPlan& plan, const RunOutcome& outcome, const std::string& outDir) {
  std::vector<std::vector<std::string>> files;
  for (const Layer& layer : outcome.layers) {
    auto written = io::exportLayer(layer, outDir);
    if (!written) return written.error();
    files.push_back(*written);
  }
  for (const auto& v : outcome.volumes) {
#ifdef LOUPE_HAVE_VOLUME
    const std::string file = (fs::path(outDir) / (v.id + ".nii.gz")).string();
    auto written = volume::writeVolume(v.volume, file);
    if (!written) return written.error();
    files.push_back({file});
#else
    return Error{ErrorCode::Io, "This build of Loupe cannot write volumes (it was built without ITK)"};
#endif
  }
  nlohmann::json doc = describeRun(plan, outcome, files);
  const fs::path path = fs::path(outDir) / "result.json";
  const fs::path tmp = fs::path(outDir) / ".result.json.tmp";
  {
    std::ofstream out(tmp);
    out << doc.dump(2) << "\n";
    if (!out) return Error{ErrorCode::Io, "Cannot write " + path.string()};
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Error{ErrorCode::Io, "Cannot write " + path.string() + ": " + ec.message()};
  return doc;
}

}  // namespace loupe::host
