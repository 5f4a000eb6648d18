// Shared helpers of the Qt-free device checks (tools/gpu-check/*.cpp): a table of checks and timings,
// median timing with device synchronisation, and the Markdown writer. Header-only, one per executable.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace loupe::gpucheck {

struct Row {
  std::string name, result, detail;
};

inline std::vector<Row>& rows() {
  static std::vector<Row> r;
  return r;
}
inline int& failures() {
  static int f = 0;
  return f;
}

inline void check(const std::string& name, bool ok, const std::string& detail) {
  rows().push_back({name, ok ? "pass" : "FAIL", detail});
  if (!ok) ++failures();
  std::fprintf(stderr, "[%s] %s: %s\n", ok ? "pass" : "FAIL", name.c_str(), detail.c_str());
}

inline void note(const std::string& name, const std::string& result, const std::string& detail) {
  rows().push_back({name, result, detail});
  std::fprintf(stderr, "[info] %s: %s (%s)\n", name.c_str(), result.c_str(), detail.c_str());
}

inline void sync(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize();
}

// Median milliseconds of `repeats` runs after `warmup` untimed runs (the device synchronised around each).
inline double timeMs(const torch::Device& d, int warmup, int repeats, const std::function<void()>& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  sync(d);
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    sync(d);
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

inline std::string fmt(double v, const char* unit) {
  char b[64];
  std::snprintf(b, sizeof b, "%.3g %s", v, unit);
  return b;
}

// Writes the table to stdout and, when `outPath` is set, to that file; returns the process exit code.
inline int finish(const std::string& title, const std::string& footer, const std::string& outPath) {
  std::ostringstream md;
  md << "### " << title << "\n\n| check | result | detail |\n|---|---|---|\n";
  for (const auto& r : rows()) md << "| " << r.name << " | " << r.result << " | " << r.detail << " |\n";
  md << "\n" << footer << ", failures: " << failures() << "\n\n";
  std::fputs(md.str().c_str(), stdout);
  if (!outPath.empty()) std::ofstream(outPath, std::ios::app) << md.str();
  return failures() ? 1 : 0;
}

}  // namespace loupe::gpucheck
