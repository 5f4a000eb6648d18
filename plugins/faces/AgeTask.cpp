#include "AgeTask.h"

#include <torch/types.h>

#include <cmath>
#include <optional>
#include <cstdio>

#include "core/Device.h"
#include "runtime/tfjs/FaceModels.h"
#include "train/AgeHead.h"

namespace loupe::faces {
namespace tf = runtime::tfjs;

namespace {
std::string fmt(const char* f, double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
}  // namespace

Result<std::vector<Layer>> AgeTask::run(const sdk::TaskInput& input, const sdk::ParamValues& params,
                                        sdk::TaskContext& context) {
  const Image& image = input.image;
  if (image.empty()) return Error{ErrorCode::InvalidArgument, "No image to analyse"};
  auto device = resolveDevice(context.device);
  if (!device) return device.error();

  context.progress.report(0.0, "Loading the face models");
  auto detectorDir = tf::findFaceModel("blazeface");
  if (!detectorDir) return detectorDir.error();
  auto ageDir = tf::findFaceModel("faceres");
  if (!ageDir) return ageDir.error();
  auto detector = tf::BlazeFace::open(*detectorDir, *device);
  if (!detector) return detector.error();
  auto ager = tf::FaceRes::open(*ageDir, *device);
  if (!ager) return ager.error();
  std::optional<train::LoadedAgeHead> head;
  if (const std::string headPath = sdk::paramString(params, "age_head"); !headPath.empty()) {
    auto h = train::loadAgeHeadPackage(headPath, *device);
    if (!h) return h.error().withContext("age_head " + headPath);
    head = std::move(*h);
  }
  if (context.cancel.isCancelled()) return Error::cancelled();

  context.progress.report(0.2, "Finding faces");
  tf::DetectorOptions det;
  det.minScore = static_cast<float>(sdk::paramFloat(params, "min_score"));
  det.iouThreshold = static_cast<float>(sdk::paramFloat(params, "iou"));
  det.maxFaces = static_cast<int>(sdk::paramInt(params, "max_faces"));
  auto faces = detector->detect(image, det, context.cancel);
  if (!faces) return faces.error();

  context.progress.report(0.5, "Estimating age and gender of " + std::to_string(faces->size()) + " face(s)");
  tf::CropOptions crop;
  crop.margin = static_cast<float>(sdk::paramFloat(params, "margin"));
  crop.align = sdk::paramBool(params, "align");
  auto estimates = ager->predictFaces(image, *faces, crop, context.cancel);
  if (!estimates) return estimates.error();
  std::vector<double> headAges;
  if (head && !estimates->empty()) {
    torch::Tensor feats = torch::empty({int64_t(estimates->size()), head->model->config().inputDim});
    for (std::size_t i = 0; i < estimates->size(); ++i) {
      const auto& f = (*estimates)[i].features;
      if (int64_t(f.size()) != feats.size(1))
        return Error{ErrorCode::ModelError, "The age head takes " + std::to_string(feats.size(1)) + " features, faceres gives " +
                                                std::to_string(f.size())};
      std::copy(f.begin(), f.end(), feats[int64_t(i)].data_ptr<float>());
    }
    auto p = train::predictAges(head->model, feats);
    if (!p) return p.error();
    for (int64_t i = 0; i < p->age.size(0); ++i) headAges.push_back(p->age[i].item<double>());
  }

  Boxes boxes;
  boxes.width = image.width();
  boxes.height = image.height();
  Points points;
  points.width = image.width();
  points.height = image.height();
  Table table;
  table.columns = {"face", "x", "y", "width", "height", "detection_score", "age", "gender", "gender_probability",
                   "note"};
  if (head) table.columns.push_back("head_age");
  for (std::size_t i = 0; i < faces->size(); ++i) {
    const auto& f = (*faces)[i];
    const auto& e = (*estimates)[i];
    const bool male = e.isMale();
    const double p = male ? e.male : 1.0 - e.male;
    Box b;
    b.x = f.x0;
    b.y = f.y0;
    b.w = f.width();
    b.h = f.height();
    b.score = f.score;
    const double shownAge = head ? headAges[i] : e.age;
    b.label = "age " + fmt("%.0f", shownAge) + ", " + (male ? "M " : "F ") + fmt("%.2f", p);
    boxes.boxes.push_back(b);
    const std::string face = std::to_string(i + 1);
    for (std::size_t k = 0; k < f.landmarks.size(); ++k)
      points.points.push_back({{f.landmarks[k].x, f.landmarks[k].y}, "face " + face + " " + tf::blazeFaceLandmarkNames()[k]});
    std::string note;
    if (std::min(b.w, b.h) < 32.f) note = "small face (" + fmt("%.0f", std::min(b.w, b.h)) + " px): estimates are unreliable";
    table.rows.push_back({face, fmt("%.1f", b.x), fmt("%.1f", b.y), fmt("%.1f", b.w), fmt("%.1f", b.h),
                          fmt("%.3f", f.score), fmt("%.1f", e.age), male ? "male" : "female", fmt("%.3f", p), note});
    if (head) table.rows.back().push_back(fmt("%.1f", headAges[i]));
  }
  if (faces->empty()) {
    table.rows.push_back({"-", "", "", "", "", "", "", "", "",
                          "no face found (threshold " + fmt("%.2f", det.minScore) + "; faces smaller than about " +
                              fmt("%.0f", std::max(image.width(), image.height()) * 20.0 / 256.0) +
                              " px are below the detector's resolution)"});
    if (head) table.rows.back().push_back("");
  }

  std::vector<Layer> layers;
  layers.push_back({"faces", "Faces (" + std::to_string(faces->size()) + ")", std::move(boxes)});
  layers.push_back({"landmarks", "Face landmarks", std::move(points)});
  layers.push_back({"faces_table", "Age and gender per face", std::move(table)});
  context.progress.report(1.0, "Done");
  return layers;
}

}  // namespace loupe::faces
