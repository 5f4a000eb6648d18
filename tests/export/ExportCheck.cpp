#include "ExportCheck.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QProcessEnvironment>

#include <torch/torch.h>

#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "io/ImageReader.h"
#include "runtime/ImageModel.h"
#include "runtime/TorchScriptModel.h"

namespace exportcheck {
using nlohmann::json;

QString python() {
  const QString env = qEnvironmentVariable("LOUPE_EXPORT_PYTHON");
  return env.isEmpty() ? QStringLiteral("/usr/bin/python3") : env;
}

QString runExport(const QString& script, const QStringList& args, int timeoutSeconds, bool* skip, QString* log) {
  *skip = false;
  if (!QFile::exists(python())) {
    *skip = true;
    return python() + " does not exist (apt-get install python3-torch python3-torchvision)";
  }
  QProcess p;
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.setWorkingDirectory(QStringLiteral(LOUPE_SOURCE_DIR));
  // Two threads at most: the test machines share their cores; results do not depend on the count.
  auto env = QProcessEnvironment::systemEnvironment();
  env.insert("OMP_NUM_THREADS", "2");
  env.insert("PYTHONDONTWRITEBYTECODE", "1");
  p.setProcessEnvironment(env);
  const QString path = QStringLiteral(LOUPE_SOURCE_DIR "/tools/export/") + script;
  p.start(python(), QStringList{path} + args);
  const bool finished = p.waitForFinished(timeoutSeconds * 1000);
  if (!finished) {
    p.kill();
    p.waitForFinished();
  }
  const QString out = QString::fromLocal8Bit(p.readAll());
  if (log) *log = out;
  if (!finished) return script + " did not finish in " + QString::number(timeoutSeconds) + " s:\n" + out;
  if (p.exitCode() != 0 && (out.contains("No module named 'torch'") || out.contains("No module named 'torchvision'") ||
                            out.contains("No module named 'PIL'"))) {
    *skip = true;
    return python() + " cannot import torch/torchvision (apt-get install python3-torch python3-torchvision)";
  }
  if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
    return script + " " + args.join(' ') + " failed (exit " + QString::number(p.exitCode()) + "):\n" + out;
  return {};
}

namespace {
torch::Tensor readF32(const QString& path, const std::vector<std::int64_t>& shape, QString* error) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    *error = "cannot open " + path;
    return {};
  }
  const QByteArray bytes = f.readAll();
  if (bytes.size() != n * static_cast<std::int64_t>(sizeof(float))) {
    *error = path + " has " + QString::number(bytes.size()) + " bytes, expected " + QString::number(n * 4);
    return {};
  }
  // Little-endian float32 as numpy wrote it; this machine is little-endian (x86-64/arm64).
  return torch::from_blob(const_cast<char*>(bytes.constData()), shape, torch::kFloat32).clone();
}

bool readOutputs(const QString& dir, const json& list, std::vector<NamedTensor>& out, QString* error) {
  for (const auto& o : list) {
    auto t = readF32(dir + "/" + QString::fromStdString(o.at("file").get<std::string>()),
                     o.at("shape").get<std::vector<std::int64_t>>(), error);
    if (!t.defined()) return false;
    out.push_back({o.at("name").get<std::string>(), t});
  }
  return true;
}

double compareOutputs(const std::vector<torch::Tensor>& cpp, const std::vector<NamedTensor>& py, const char* what,
                      QString* error) {
  if (cpp.size() != py.size()) {
    *error = QString("%1: C++ gives %2 outputs, Python %3").arg(what).arg(cpp.size()).arg(py.size());
    return -1;
  }
  double worst = 0;
  for (std::size_t i = 0; i < cpp.size(); ++i) {
    if (cpp[i].sizes() != py[i].tensor.sizes()) {
      std::ostringstream a, b;
      a << cpp[i].sizes();
      b << py[i].tensor.sizes();
      *error = QString("%1: output '%2' is %3 in C++ but %4 in Python")
                   .arg(what, QString::fromStdString(py[i].name), QString::fromStdString(a.str()),
                        QString::fromStdString(b.str()));
      return -1;
    }
    const double d = maxAbsDiff(cpp[i], py[i].tensor);
    qInfo("%s: output '%s' %s max |C++ - Python| = %.3g (values up to %.3g)", what, py[i].name.c_str(),
          [&] { std::ostringstream s; s << py[i].tensor.sizes(); return s.str(); }().c_str(), d,
          py[i].tensor.abs().max().item<double>());
    worst = std::max(worst, d);
  }
  return worst;
}
}  // namespace

bool readReference(const QString& dir, Reference& ref, QString* error) {
  std::ifstream in((dir + "/reference.json").toStdString());
  if (!in) {
    *error = "no reference.json in " + dir;
    return false;
  }
  json j;
  try {
    in >> j;
    const auto& t = j.at("tensor");
    ref.input = readF32(dir + "/" + QString::fromStdString(t.at("input").at("file").get<std::string>()),
                        t.at("input").at("shape").get<std::vector<std::int64_t>>(), error);
    if (!ref.input.defined()) return false;
    if (!readOutputs(dir, t.at("outputs"), ref.tensorOutputs, error)) return false;
    if (j.contains("image")) {  // absent for inputs that are not one RGB image
      const auto& im = j.at("image");
      ref.imagePath = (dir + "/" + QString::fromStdString(im.at("file").get<std::string>())).toStdString();
      if (!readOutputs(dir, im.at("outputs"), ref.imageOutputs, error)) return false;
    }
  } catch (const std::exception& e) {
    *error = QString("reference.json: ") + e.what();
    return false;
  }
  return true;
}

double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat32).cpu() - b.to(torch::kFloat32).cpu()).abs().max().item<double>();
}

double compareTensorOnly(const QString& packageDir, const Reference& ref, QString* error) {
  using namespace loupe;
  auto package = runtime::openModelPackage(packageDir.toStdString());
  if (!package) {
    *error = QString::fromStdString(package.error().message);
    return -1;
  }
  auto model = runtime::loadModel(*package, torch::kCPU);  // any format (TorchScript, ONNX)
  if (!model) {
    *error = QString::fromStdString(model.error().message);
    return -1;
  }
  auto out = (*model)->forward(ref.input);
  if (!out) {
    *error = QString::fromStdString(out.error().message);
    return -1;
  }
  return compareOutputs(*out, ref.tensorOutputs, "tensor", error);
}

Comparison compareWithPython(const QString& packageDir, const Reference& ref, const std::string& taskId,
                             const Inspect& inspect) {
  using namespace loupe;
  Comparison c;
  auto package = runtime::openModelPackage(packageDir.toStdString());  // checks every file's sha256
  if (!package) {
    c.error = QString::fromStdString(package.error().message);
    return c;
  }
  if (auto ok = runtime::checkPackageTask(*package, taskId); !ok) {
    c.error = QString::fromStdString(ok.error().message);
    return c;
  }
  // 1. The fixed tensor through the TorchScript runner (output spec checks included).
  auto model = runtime::loadModel(*package, torch::kCPU);  // any format (TorchScript, ONNX)
  if (!model) {
    c.error = QString::fromStdString(model.error().message);
    return c;
  }
  QElapsedTimer timer;
  timer.start();
  auto out = (*model)->forward(ref.input);
  qInfo("C++ forward on the reference tensor: %lld ms", static_cast<long long>(timer.elapsed()));
  if (!out) {
    c.error = QString::fromStdString(out.error().message);
    return c;
  }
  c.tensorMaxAbs = compareOutputs(*out, ref.tensorOutputs, "tensor", &c.error);
  if (!c.error.isEmpty() || ref.imagePath.empty()) return c;

  // 2. The image through ImageModel: decoding and preprocessing per the manifest, then the model.
  runtime::ImageModelOptions o;
  o.device.kind = DeviceRequest::Kind::Cpu;
  o.warmupRuns = 0;
  auto im = runtime::ImageModel::fromPackage(*package, o);
  if (!im) {
    c.error = QString::fromStdString(im.error().message);
    return c;
  }
  auto image = io::loadImage(ref.imagePath);
  if (!image) {
    c.error = QString::fromStdString(image.error().message);
    return c;
  }
  timer.restart();
  auto imOut = im->run(*image);
  qInfo("C++ ImageModel::run on the reference image: %lld ms", static_cast<long long>(timer.elapsed()));
  if (!imOut) {
    c.error = QString::fromStdString(imOut.error().message);
    return c;
  }
  c.imageMaxAbs = compareOutputs(*imOut, ref.imageOutputs, "image", &c.error);
  if (c.error.isEmpty() && inspect) inspect(*im, *imOut);
  return c;
}

}  // namespace exportcheck
