#include "Loss.h"

#include <algorithm>
#include <mutex>

namespace loupe::train {

namespace {
struct Entry {
  std::string summary;
  LossFactory factory;
};
std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> r;
  return r;
}
std::mutex& registryMutex() {
  static std::mutex m;
  return m;
}
}  // namespace

bool registerLoss(const char* name, const char* summary, LossFactory factory) {
  std::lock_guard<std::mutex> lock(registryMutex());
  registry()[name] = {summary, factory};
  return true;
}

Result<std::unique_ptr<Loss>> makeLoss(const std::string& name, const LossParams& params) {
  LossFactory factory = nullptr;
  {
    std::lock_guard<std::mutex> lock(registryMutex());
    const auto it = registry().find(name);
    if (it != registry().end()) factory = it->second.factory;
  }
  if (!factory) {
    std::string list;
    for (const auto& [n, s] : registeredLosses()) list += (list.empty() ? "" : ", ") + n;
    return Error{ErrorCode::InvalidArgument, "Unknown loss '" + name + "' (known: " + list + ")"};
  }
  return factory(params);
}

std::vector<std::pair<std::string, std::string>> registeredLosses() {
  std::lock_guard<std::mutex> lock(registryMutex());
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, e] : registry()) out.emplace_back(name, e.summary);
  return out;
}

namespace loss_detail {

Result<void> checkKnown(const std::string& loss, const LossParams& params, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : params) {
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return Error{ErrorCode::InvalidArgument,
                   "Loss " + loss + ": unknown parameter '" + key + "' (known: " + (list.empty() ? "none" : list) + ")"};
    }
  }
  return {};
}

double param(const LossParams& params, const char* key, double fallback) {
  const auto it = params.find(key);
  return it == params.end() ? fallback : it->second;
}

Error badInput(const std::string& loss, const std::string& what) {
  return {ErrorCode::InvalidArgument, "Loss " + loss + ": " + what};
}

torch::Tensor normalize(const torch::Tensor& x, int64_t dim) {
  return x / x.norm(2, dim, true).clamp_min(1e-12);
}

Result<torch::Tensor> asViews(const std::string& loss, const torch::Tensor& features) {
  if (!features.defined()) return badInput(loss, "no features given");
  if (!features.is_floating_point()) return badInput(loss, "features must be floating point");
  if (features.dim() == 2) return features.unsqueeze(1);
  if (features.dim() == 3) return features;
  return badInput(loss, "features must be [batch, dim] or [batch, views, dim], got " +
                            std::to_string(features.dim()) + " dimensions");
}

}  // namespace loss_detail
}  // namespace loupe::train
