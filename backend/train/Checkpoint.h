#pragma once
// The checkpoint file that Loupe's trainers (EmbeddingTrainer, ForgeryTrainer) write after every epoch and
// read on --resume: model and optimiser state, the epochs done and their mean losses, and an "architecture"
// tensor that must match the network being resumed (a resume with other options is refused with a message,
// not loaded into the wrong shapes). A trainer adds its own entries through `extra` (e.g. CoNe's neighbour
// bank). The file is written under a temporary name and renamed, so a crash mid-write keeps the last one.

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <string>
#include <system_error>

#include "core/Result.h"
#include "train/TrainLoop.h"

namespace loupe::train {

template <class Model>
Result<void> saveTrainingCheckpoint(const std::string& path, Model& model, torch::optim::Optimizer& opt,
                                    const EpochState& state, const torch::Tensor& architecture,
                                    const std::function<void(torch::serialize::OutputArchive&)>& extra = {}) {
  try {
    torch::serialize::OutputArchive archive, modelArchive, optArchive;
    model->save(modelArchive);
    opt.save(optArchive);
    archive.write("model", modelArchive);
    archive.write("optimizer", optArchive);
    archive.write("epoch", torch::tensor(int64_t(state.epoch)));
    archive.write("losses", torch::tensor(state.losses, torch::kDouble));
    archive.write("architecture", architecture);
    if (extra) extra(archive);
    const std::string tmp = path + ".partial";
    archive.save_to(tmp);
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Error{ErrorCode::Io, "Cannot move the checkpoint into place at " + path + ": " + ec.message()};
  } catch (const c10::Error& e) {
    return Error{ErrorCode::Io, "Cannot write the checkpoint " + path + ": " + e.what_without_backtrace()};
  }
  return {};
}

// `mismatch` ends the message when the architecture differs: "was written for " + mismatch.
template <class Model>
Result<EpochState> loadTrainingCheckpoint(const std::string& path, Model& model, torch::optim::Optimizer& opt,
                                          const torch::Tensor& architecture, const std::string& mismatch,
                                          const std::function<void(torch::serialize::InputArchive&)>& extra = {}) {
  EpochState state;
  try {
    torch::serialize::InputArchive archive, modelArchive, optArchive;
    archive.load_from(path);
    torch::Tensor arch, epoch, losses;
    archive.read("architecture", arch);
    if (!torch::equal(arch, architecture)) return Error{ErrorCode::InvalidArgument, path + " was written for " + mismatch};
    archive.read("model", modelArchive);
    model->load(modelArchive);
    archive.read("optimizer", optArchive);
    opt.load(optArchive);
    archive.read("epoch", epoch);
    archive.read("losses", losses);
    state.epoch = int(epoch.item<int64_t>());
    for (int64_t i = 0; i < losses.numel(); ++i) state.losses.push_back(losses[i].item<double>());
    if (extra) extra(archive);
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    return Error{ErrorCode::CorruptData, "Cannot resume from " + path + ": " + what.substr(0, what.find('\n'))};
  }
  return state;
}

}  // namespace loupe::train
