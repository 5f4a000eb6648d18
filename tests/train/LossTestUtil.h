#pragma once
// Shared by the loss tests: central finite differences against autograd (float64), and Python's torch
// (Debian's python3-torch at /usr/bin/python3) as an independent run-time reference.

#include <QFile>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <torch/torch.h>

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "train/losses/Loss.h"

namespace losstest {

// Largest |autograd - finite difference| over every entry of every input that requires grad, with central
// differences of step h on a float64 function. `f` must be deterministic in its inputs.
inline double gradientError(const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& f,
                            std::vector<torch::Tensor> inputs, double h = 1e-6) {
  for (auto& t : inputs) t = t.detach().to(torch::kDouble).requires_grad_(true);
  const torch::Tensor out = f(inputs);
  const auto grads = torch::autograd::grad({out}, inputs, {}, false, false, true);
  double worst = 0.0;
  torch::NoGradGuard noGrad;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const torch::Tensor flat = inputs[k].view({-1});
    const torch::Tensor g = grads[k].defined() ? grads[k].reshape({-1}) : torch::zeros_like(flat);
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double v = flat[i].item<double>();
      flat[i] = v + h;
      const double up = f(inputs).item<double>();
      flat[i] = v - h;
      const double down = f(inputs).item<double>();
      flat[i] = v;
      worst = std::max(worst, std::abs((up - down) / (2 * h) - g[i].item<double>()));
    }
  }
  return worst;
}

// A LossInput with features (and labels) only.
inline loupe::train::LossInput input(const torch::Tensor& features, const torch::Tensor& labels = {}) {
  loupe::train::LossInput in;
  in.features = features;
  in.labels = labels;
  return in;
}

// A loss as a function of (features, logits ...) for gradientError: builds the LossInput with `fill`.
inline torch::Tensor lossValue(loupe::train::Loss& loss, const loupe::train::LossInput& input) {
  auto r = loss.compute(input);
  if (!r) throw std::runtime_error(r.error().toString());
  return *r;
}

// [[1, 2], [3, 4]] text of a tensor (float64, full precision) for Python's json.loads.
inline std::string json(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  std::function<void(std::ostringstream&, int64_t, int64_t)> rec = [&](std::ostringstream& s, int64_t dim, int64_t offset) {
    if (c.dim() == 0) {
      s << c.item<double>();
      return;
    }
    s << "[";
    const int64_t n = c.size(dim), stride = c.stride(dim);
    for (int64_t i = 0; i < n; ++i) {
      if (i) s << ",";
      if (dim + 1 == c.dim()) s << c.data_ptr<double>()[offset + i * stride];
      else rec(s, dim + 1, offset + i * stride);
    }
    s << "]";
  };
  std::ostringstream s;
  s.precision(17);
  rec(s, 0, 0);
  return s.str();
}

// Runs /usr/bin/python3 -c `script` with `args`; stdout, or empty (with `*skip` set) when Python or its torch
// is missing. Failures of the script itself return "ERROR: ..." so the test fails with the message.
inline QString python(const QString& script, const QStringList& args, bool* skip) {
  *skip = false;
  if (!QFile::exists("/usr/bin/python3")) {
    *skip = true;
    return {};
  }
  QProcess probe;
  probe.start("/usr/bin/python3", {"-c", "import torch"});
  if (!probe.waitForFinished(60000) || probe.exitCode() != 0) {
    *skip = true;
    return {};
  }
  QProcess p;
  p.start("/usr/bin/python3", QStringList{"-c", script} + args);
  if (!p.waitForFinished(120000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
    return "ERROR: " + QString::fromUtf8(p.readAllStandardError());
  return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
}

inline std::unique_ptr<loupe::train::Loss> make(const std::string& name, const loupe::train::LossParams& params = {}) {
  auto r = loupe::train::makeLoss(name, params);
  if (!r) throw std::runtime_error(r.error().toString());
  return std::move(r).value();
}

}  // namespace losstest
