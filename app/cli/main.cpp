// loupe-cli: Loupe without a window. Lists tasks from plugin manifests and runs them on files.
// Exit codes are documented in docs/cli.md.

#include <CLI/CLI.hpp>
#include <QCoreApplication>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <unistd.h>

#include "Command.h"
#include "ProgressBar.h"
#include "core/Device.h"
#include "host/PluginHost.h"
#include "host/ExitCodes.h"
#include "host/TaskRunner.h"
#include "runtime/ModelPackage.h"

using namespace loupe;

namespace {

using cli::fail;

nlohmann::json taskJson(const host::TaskRef& t) {
  nlohmann::json params = nlohmann::json::array();
  for (const auto& p : t.spec->params) {
    nlohmann::json j = {{"id", p.id}, {"title", p.title}, {"type", sdk::paramTypeName(p.type)},
                        {"default", sdk::paramToString(p.defaultValue)}};
    if (p.min) j["min"] = *p.min;
    if (p.max) j["max"] = *p.max;
    if (!p.choices.empty()) j["choices"] = p.choices;
    params.push_back(j);
  }
  nlohmann::json j = {{"id", t.spec->id}, {"title", t.spec->title}, {"plugin", t.plugin->manifest.id},
                      {"inputs", t.spec->inputs}, {"outputs", t.spec->outputs}, {"parameters", params}};
  if (!t.spec->category.empty()) j["category"] = t.spec->category;
  return j;
}

int listTasks(host::PluginHost& host, bool json) {
  const auto tasks = host.tasks();
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& t : tasks) arr.push_back(taskJson(t));
    std::cout << arr.dump(2) << "\n";
    return host::Ok;
  }
  if (tasks.empty()) {
    std::cerr << "loupe-cli: no tasks: no valid plugins in " << host.searchPaths().join(":").toStdString()
              << " (see `loupe-cli plugins`)\n";
    return host::PluginFailed;
  }
  for (const auto& t : tasks) {
    std::cout << t.spec->id << "\t" << t.spec->title;
    if (!t.spec->category.empty()) std::cout << "\t[" << t.spec->category << "]";
    std::cout << "\n";
    for (const auto& p : t.spec->params) {
      std::cout << "    --param " << p.id << "=" << sdk::paramToString(p.defaultValue) << "\t(" << sdk::paramTypeName(p.type);
      if (p.min || p.max)
        std::cout << ", " << (p.min ? sdk::paramToString(*p.min) : "") << ".." << (p.max ? sdk::paramToString(*p.max) : "");
      if (!p.choices.empty()) {
        std::cout << ":";
        for (const auto& c : p.choices) std::cout << " " << c;
      }
      std::cout << ") " << p.title << "\n";
    }
  }
  return host::Ok;
}

int listPlugins(host::PluginHost& host, bool json) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& p : host.plugins()) {
    const char* state = host::pluginStateName(p->state);
    if (json) {
      arr.push_back({{"path", p->path.toStdString()}, {"id", p->manifest.id}, {"version", p->manifest.version},
                     {"state", state}, {"error", p->error}});
    } else {
      std::cout << (p->manifest.id.empty() ? "?" : p->manifest.id) << "\t" << state << "\t" << p->path.toStdString();
      if (!p->error.empty()) std::cout << "\n    " << p->error;
      std::cout << "\n";
    }
  }
  if (json) std::cout << arr.dump(2) << "\n";
  else if (host.plugins().empty())
    std::cout << "no plugins found in " << host.searchPaths().join(":").toStdString() << "\n";
  return host::Ok;
}


nlohmann::json packageJson(const runtime::ModelPackage& p) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& f : p.files) files[f.path] = f.sha256;
  nlohmann::json outputs = nlohmann::json::array();
  for (const auto& o : p.outputs) outputs.push_back({{"name", o.name}, {"kind", o.kind}, {"shape", o.shape}});
  return {{"folder", p.folder}, {"id", p.id}, {"name", p.name}, {"version", p.version}, {"task", p.task},
          {"format", runtime::modelFormatName(p.format)}, {"entry", p.entry}, {"files", files},
          {"input", {{"layout", p.input.layout}, {"channels", p.input.channels}, {"color_order", p.input.colorOrder},
                     {"dtype", p.input.dtype}, {"scale", p.input.scale}, {"mean", p.input.mean}, {"std", p.input.std}}},
          {"outputs", outputs}, {"labels", p.labels}, {"precisions", p.precisions}, {"licence", p.licence},
          {"citation", p.citation}, {"provenance", p.provenance}};
}

int modelsCommand(const std::string& action, const std::string& target, const std::vector<std::string>& dirs, bool json) {
  if (action == "list") {
    auto paths = dirs;
    for (const auto& p : runtime::defaultModelSearchPaths()) paths.push_back(p);
    const auto list = runtime::listModelPackages(paths);
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& e : list) {
      if (json) {
        arr.push_back(e.package.ok() ? nlohmann::json{{"folder", e.folder}, {"id", e.package->id},
                                                      {"task", e.package->task}, {"ok", true}}
                                     : nlohmann::json{{"folder", e.folder}, {"ok", false}, {"error", e.package.error().message}});
      } else if (e.package.ok()) {
        std::cout << e.package->id << "\t" << e.package->task << "\t" << runtime::modelFormatName(e.package->format)
                  << "\t" << e.folder << "\n";
      } else {
        std::cout << "?\tbroken\t\t" << e.folder << "\n    " << e.package.error().message << "\n";
      }
    }
    if (json) std::cout << arr.dump(2) << "\n";
    else if (list.empty()) std::cerr << "loupe-cli: no model packages found\n";
    return host::Ok;
  }
  if (target.empty()) return fail(host::Usage, "models " + action + " needs a package folder");
  auto p = runtime::openModelPackage(target, /*verifyFiles=*/action == "verify");
  if (!p) return fail(host::BadInput, p.error().message);
  if (json || action == "inspect") {
    std::cout << packageJson(*p).dump(2) << "\n";
  } else {
    std::cout << p->id << ": " << p->files.size() << " file(s) verified (sha256), entry is "
              << runtime::modelFormatName(p->format) << "\n";
  }
  return host::Ok;
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QCoreApplication::setApplicationName("loupe-cli");

  CLI::App cli{"Loupe analysis workbench, headless.\nExit codes: 0 ok, 1 internal error, 2 usage, 3 bad input, "
               "4 task failed, 5 device unavailable, 6 plugin error, 7 cannot write output, 130 cancelled."};
  cli.set_version_flag("--version", host::loupeVersion());
  cli.require_subcommand(1);
  std::vector<std::string> pluginDirs;
  cli.add_option("--plugin-dir", pluginDirs, "Extra folder to search for plugins (searched first)");

  bool json = false;
  auto* tasksCmd = cli.add_subcommand("tasks", "List the tasks the installed plugins offer");
  tasksCmd->add_flag("--json", json, "Machine-readable output");
  auto* pluginsCmd = cli.add_subcommand("plugins", "List plugins, including broken ones and why");
  pluginsCmd->add_flag("--json", json, "Machine-readable output");

  std::string modelAction, modelTarget;
  std::vector<std::string> modelDirs;
  auto* modelsCmd = cli.add_subcommand("models", "Model packages: list, inspect PACKAGE, verify PACKAGE");
  modelsCmd->add_option("action", modelAction, "list | inspect | verify")
      ->required()
      ->check(CLI::IsMember({"list", "inspect", "verify"}));
  modelsCmd->add_option("package", modelTarget, "Package folder (inspect, verify)");
  modelsCmd->add_option("--dir", modelDirs, "Extra folder to search (list)");
  modelsCmd->add_flag("--json", json, "Machine-readable output");

  host::RunRequest req;
  std::string outDir;
  std::vector<std::string> paramTexts;
  int threads = 0;
  bool quiet = false;
  auto* runCmd = cli.add_subcommand("run", "Run a task on an input and write its layers to files");
  runCmd->add_option("task", req.taskId, "Task id, e.g. forgery.ela (see `loupe-cli tasks`)")->required();
  runCmd->add_option("input", req.inputPath, "Input image")->required();
  runCmd->add_option("--out,-o", outDir, "Folder for the results (created if missing)")->required();
  runCmd->add_option("--param,-p", paramTexts, "Task parameter as name=value (repeatable)");
  runCmd->add_option("--device", req.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  runCmd->add_option("--threads", threads, "CPU threads (default: one per core)");
  runCmd->add_flag("--json", json, "Print the result description (result.json) on stdout");
  runCmd->add_flag("--quiet,-q", quiet, "No progress bar");

  // Commands in app/cli/commands/ (eval, train, ...), grouped under their verb.
  const std::map<std::string, std::string> groupHelp = {
      {"eval", "Evaluate predictions against ground truth and print metrics"},
      {"train", "Train a model with Loupe's own code and save it as a model package"}};
  std::map<std::string, CLI::App*> groups;
  std::vector<cli::Subcommand> commands;
  for (const auto& c : cli::registeredCommands()) {
    auto& group = groups[c.group];
    if (!group) {
      const auto help = groupHelp.find(c.group);
      group = cli.add_subcommand(c.group, help == groupHelp.end() ? c.group : help->second);
      group->require_subcommand(1);
    }
    commands.push_back(c.setup(*group));
  }

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? host::Ok : host::Usage;
  }

  if (*modelsCmd) return modelsCommand(modelAction, modelTarget, modelDirs, json);
  for (const auto& c : commands) {
    if (c.app && c.app->parsed()) {
      cli::installInterruptHandler();
      try {
        return c.run();
      } catch (const std::exception& e) {
        cli::finishProgress();
        return fail(host::Internal, e.what());
      }
    }
  }

  host::PluginHost host;
  QStringList paths;
  for (const auto& d : pluginDirs) paths << QString::fromStdString(d);
  host.setSearchPaths(paths + host::PluginHost::defaultSearchPaths());
  host.scan();

  if (*tasksCmd) return listTasks(host, json);
  if (*pluginsCmd) return listPlugins(host, json);

  for (const auto& text : paramTexts) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) return fail(host::Usage, "--param expects name=value, got '" + text + "'");
    req.params.emplace_back(text.substr(0, eq), text.substr(eq + 1));
  }
  if (threads < 0) return fail(host::Usage, "--threads must be positive");
  configureThreads(threads);

  host::RunStage stage = host::RunStage::Usage;
  auto plan = host::planRun(host, req, &stage);
  if (!plan) return fail(host::exitCodeFor(stage, plan.error()), plan.error().message);
  for (const auto& w : plan->input.source.warnings) std::fprintf(stderr, "loupe-cli: warning: %s\n", w.c_str());

  cli::installInterruptHandler();
  Progress progress = cli::terminalProgress(quiet);
  auto outcome = host::executeRun(*plan, cli::interruptToken(), progress);
  cli::finishProgress();
  if (!outcome) return fail(host::exitCodeFor(host::RunStage::Task, outcome.error()), plan->spec.id + ": " + outcome.error().message);

  auto written = host::writeRun(*plan, *outcome, outDir);
  if (!written) return fail(host::OutputFailed, written.error().message);
  if (json) {
    std::cout << written->dump(2) << "\n";
  } else if (!quiet) {
    std::fprintf(stderr, "%s: %zu layer(s) written to %s in %.2f s on %s\n", plan->spec.id.c_str(),
                 outcome->layers.size(), outDir.c_str(), outcome->seconds, plan->deviceName.c_str());
  }
  return host::Ok;
}
