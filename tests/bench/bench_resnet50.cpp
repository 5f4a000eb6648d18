// Benchmark (not a test): image -> top-5 classes end to end for a ResNet-50-sized TorchScript package
// (tools/export/cone.py --random: ResNet-50 + CoNe's 256-d head + 1000-class classifier), as Loupe runs it:
//   decode       loupe::io::loadImage (header check, sha256, EXIF orientation, OpenCV decode)
//   preprocess   torchvision's eval transform: resize the short side to 256 (area filter when shrinking,
//                like PIL's antialiased bilinear; bilinear when enlarging), centre crop 224, then
//                loupe::imageToTensor with the package's scale/mean/std, written into a [B, 3, 224, 224] batch
//   (decode and preprocess: one image per task on worker threads, see Workers)
//   inference    loupe::runtime::TorchScriptModel::forward (inference mode, output spec checks)
//   postprocess  softmax + top-5 with the package's labels
// Batches of 1 and 32 (images taken round-robin from the list); median per stage over the timed repeats.
// tests/bench/resnet50_peer.py does the same in Python; tests/bench/bench_resnet50.sh runs both.
//
// Usage: bench_resnet50 PACKAGE_DIR [--repeats N] [--warmup N] [--batches 1,32] [--workers N] [--json] IMAGE...
//   --workers: threads for decoding + preprocessing, one image each (default: one per core)

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/Device.h"
#include "core/TensorConvert.h"
#include "io/ImageReader.h"
#include "runtime/ModelPackage.h"
#include "runtime/TorchScriptModel.h"

using namespace loupe;
using Clock = std::chrono::steady_clock;

namespace {
double ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_resnet50: %s\n", what.c_str());
  std::exit(3);
}

// torchvision.transforms.Resize(256) + CenterCrop(224) on an 8-bit RGB image.
Image resizeAndCrop(const Image& rgb, int shortSide, int crop) {
  const int w = rgb.width(), h = rgb.height();
  const bool wShort = w <= h;
  const int s = wShort ? w : h, l = wShort ? h : w;
  const int newLong = static_cast<int>(static_cast<long long>(shortSide) * l / s);  // int() truncation, as torchvision
  const int nw = wShort ? shortSide : newLong, nh = wShort ? newLong : shortSide;
  const cv::Mat src(h, w, CV_8UC3, const_cast<std::uint8_t*>(rgb.data()), rgb.rowBytes());
  cv::Mat resized;
  cv::resize(src, resized, cv::Size(nw, nh), 0, 0, (nw < w || nh < h) ? cv::INTER_AREA : cv::INTER_LINEAR);
  // torchvision: int(round((size - crop) / 2.0)), Python rounds halves to even like nearbyint.
  const int top = static_cast<int>(std::nearbyint((nh - crop) / 2.0));
  const int left = static_cast<int>(std::nearbyint((nw - crop) / 2.0));
  Image out(crop, crop, ColorOrder::RGB);
  cv::Mat dst(crop, crop, CV_8UC3, out.data(), out.rowBytes());
  resized(cv::Rect(left, top, crop, crop)).copyTo(dst);
  return out;
}

// Decoding and preprocessing run on worker threads, one image per task, each worker with a single
// intra-op thread (set once when it starts). Per-image tensors are small (~150k values): splitting each
// element-wise op over the OpenMP team costs more than it saves, and on a loaded machine every such op
// waits for a descheduled thread (measured here: imageToTensor 0.4 ms on one thread, ~100 ms on two).
// Toggling at::set_num_threads around preprocessing on the inference thread is no cure: it re-creates
// thread pools and slows the next inference. Inference keeps all threads on the main thread.
class Workers {
 public:
  explicit Workers(int n) {
    for (int i = 0; i < n; ++i)
      threads_.emplace_back([this] {
        at::set_num_threads(1);  // this thread's OpenMP team only; the main thread keeps its own
        for (;;) {
          std::function<void()> job;
          {
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
            if (stop_ && jobs_.empty()) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
          }
          job();
        }
      });
  }
  ~Workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  // Runs fn(0) ... fn(n - 1) on the workers and waits for all of them.
  void run(int n, const std::function<void(int)>& fn) {
    std::vector<std::future<void>> done;
    for (int i = 0; i < n; ++i) {
      auto task = std::make_shared<std::packaged_task<void()>>([&fn, i] { fn(i); });
      done.push_back(task->get_future());
      {
        std::lock_guard<std::mutex> lock(mutex_);
        jobs_.emplace_back([task] { (*task)(); });
      }
      cv_.notify_one();
    }
    for (auto& f : done) f.get();
  }

 private:
  std::vector<std::thread> threads_;
  std::deque<std::function<void()>> jobs_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
};

struct Stages {
  std::vector<double> decode, preprocess, inference, postprocess, total;
};
}  // namespace

int main(int argc, char** argv) {
  std::string packageDir;
  std::vector<std::string> images;
  std::vector<int> batches = {1, 32};
  int repeats = 10, warmup = 3, workerCount = 0;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeats" && i + 1 < argc) repeats = std::max(1, std::atoi(argv[++i]));
    else if (a == "--warmup" && i + 1 < argc) warmup = std::max(0, std::atoi(argv[++i]));
    else if (a == "--json") json = true;
    else if (a == "--workers" && i + 1 < argc) workerCount = std::max(1, std::atoi(argv[++i]));
    else if (a == "--batches" && i + 1 < argc) {
      batches.clear();
      std::stringstream ss(argv[++i]);
      for (std::string b; std::getline(ss, b, ',');) batches.push_back(std::max(1, std::atoi(b.c_str())));
    } else if (packageDir.empty()) packageDir = a;
    else images.push_back(a);
  }
  if (packageDir.empty() || images.empty()) {
    std::fprintf(stderr, "usage: bench_resnet50 PACKAGE_DIR [--repeats N] [--warmup N] [--batches 1,32] [--workers N] [--json] IMAGE...\n");
    return 2;
  }

  const int threads = configureThreads(0);
  // OpenCV's own parallel loops (decoding, colour conversion, resizing) would split each image again and
  // wait on the same loaded cores: images are the unit of parallelism here.
  cv::setNumThreads(0);
  auto package = runtime::openModelPackage(packageDir);
  if (!package) die(package.error().message);
  auto model = runtime::TorchScriptModel::load(*package, torch::kCPU);
  if (!model) die(model.error().message);
  const auto& in = package->input;
  TensorSpec spec;
  spec.scale = static_cast<float>(in.scale);
  spec.mean.assign(in.mean.begin(), in.mean.end());
  spec.std.assign(in.std.begin(), in.std.end());
  const int crop = in.size.kind == runtime::SizePolicy::Kind::Fixed ? in.size.width : 224;
  std::size_t logitsIndex = package->outputs.size();
  for (std::size_t i = 0; i < package->outputs.size(); ++i)
    if (package->outputs[i].kind == "logits") logitsIndex = i;
  if (logitsIndex == package->outputs.size()) die("the package has no logits output");

  if (workerCount == 0) workerCount = threads;
  Workers workers(workerCount);
  if (!json)
    std::printf("Loupe C++ | %s | %s | %d decode/preprocess workers | %zu images\n", package->id.c_str(),
                describeDevice(torch::kCPU).c_str(), workerCount, images.size());
  std::ostringstream js;
  js << "{\"runtime\": \"loupe\", \"threads\": " << threads << ", \"workers\": " << workerCount << ", \"batches\": {";
  std::size_t next = 0;
  std::string top1;
  for (std::size_t bi = 0; bi < batches.size(); ++bi) {
    const int B = batches[bi];
    Stages st;
    for (int r = 0; r < warmup + repeats; ++r) {
      std::vector<std::string> paths;
      for (int b = 0; b < B; ++b) paths.push_back(images[next++ % images.size()]);

      const auto t0 = Clock::now();
      std::vector<Image> decoded(paths.size());
      std::vector<std::string> errors(paths.size());
      workers.run(B, [&](int i) {
        auto img = io::loadImage(paths[static_cast<std::size_t>(i)]);
        if (img) decoded[static_cast<std::size_t>(i)] = std::move(*img);
        else errors[static_cast<std::size_t>(i)] = img.error().message;
      });
      for (const auto& e : errors)
        if (!e.empty()) die(e);
      const auto t1 = Clock::now();
      // [B, 3, 224, 224], each worker writing its image's slice (no extra copy for the batch).
      const torch::Tensor batch = torch::empty({B, 3, crop, crop}, torch::kFloat32);
      workers.run(B, [&](int i) {
        c10::InferenceMode guard;
        const Image& img = decoded[static_cast<std::size_t>(i)];
        const Image rgb = img.depth() == PixelDepth::U8 ? img.toRGB() : img.toU8().toRGB();
        auto t = imageToTensor(resizeAndCrop(rgb, 256, crop), spec);
        if (!t) errors[static_cast<std::size_t>(i)] = t.error().message;
        else batch[i].copy_((*t)[0]);
      });
      for (const auto& e : errors)
        if (!e.empty()) die(e);
      const auto t2 = Clock::now();
      auto out = model->forward(batch);
      if (!out) die(out.error().message);
      const auto t3 = Clock::now();
      std::vector<std::pair<std::string, float>> results;
      {
        c10::InferenceMode guard;
        const auto top = torch::softmax((*out)[logitsIndex], 1).topk(5, 1);
        const auto values = std::get<0>(top).contiguous();
        const auto indices = std::get<1>(top).contiguous();
        const auto v = values.accessor<float, 2>();
        const auto ix = indices.accessor<std::int64_t, 2>();
        results.reserve(static_cast<std::size_t>(B) * 5);
        for (int b = 0; b < B; ++b)
          for (int k = 0; k < 5; ++k) {
            const auto idx = ix[b][k];
            results.emplace_back(idx < static_cast<std::int64_t>(package->labels.size())
                                     ? package->labels[static_cast<std::size_t>(idx)] : std::to_string(idx),
                                 v[b][k]);
          }
      }
      const auto t4 = Clock::now();
      top1 = results.front().first;
      if (r < warmup) continue;
      st.decode.push_back(ms(t0, t1));
      st.preprocess.push_back(ms(t1, t2));
      st.inference.push_back(ms(t2, t3));
      st.postprocess.push_back(ms(t3, t4));
      st.total.push_back(ms(t0, t4));
    }
    const double total = median(st.total);
    if (!json) {
      std::printf("batch %2d: decode %8.2f  preprocess %8.2f  inference %8.2f  postprocess %6.2f  total %8.2f ms"
                  "  (%.2f ms/image, %.2f images/s; median of %d)\n",
                  B, median(st.decode), median(st.preprocess), median(st.inference), median(st.postprocess), total,
                  total / B, 1000.0 * B / total, repeats);
    }
    js << (bi ? ", " : "") << "\"" << B << "\": {";
    const std::pair<const char*, const std::vector<double>*> all[] = {
        {"decode", &st.decode}, {"preprocess", &st.preprocess}, {"inference", &st.inference},
        {"postprocess", &st.postprocess}, {"total", &st.total}};
    for (std::size_t s = 0; s < 5; ++s) {
      js << (s ? ", " : "") << "\"" << all[s].first << "\": [";
      for (std::size_t k = 0; k < all[s].second->size(); ++k) js << (k ? ", " : "") << (*all[s].second)[k];
      js << "]";
    }
    js << "}";
  }
  js << "}, \"top1\": \"" << top1 << "\"}";
  if (json) std::printf("%s\n", js.str().c_str());
  return 0;
}
