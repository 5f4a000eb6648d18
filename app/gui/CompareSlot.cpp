#include "CompareSlot.h"

#include <QFileInfo>

#include "JobBarLink.h"
#include "widgets/ImageView.h"
#include "widgets/LayerStack.h"
#include "widgets/ViewLayer.h"

namespace loupe::gui {

namespace {
constexpr double kHeatmapOpacity = 0.6;  // as the main view draws results
constexpr double kOtherOpacity = 0.5;
}  // namespace

CompareSlot::CompareSlot(host::PluginHost& host, widgets::ImageView* view, widgets::JobBar* bar, QObject* parent)
    : QObject(parent), job_(host), view_(view), layers_(new widgets::LayerStack(this)), link_(new JobBarLink(job_, bar, this)) {
  view_->setLayers(layers_);
  connect(&job_, &AnalysisJob::finished, this, &CompareSlot::onFinished);
}

Result<void> CompareSlot::start(const host::RunRequest& request, const QString& title) {
  if (job_.isRunning()) return Error{ErrorCode::InvalidArgument, "The second view is still computing; cancel it first"};
  auto started = job_.start(request);
  if (!started) return started.error();
  request_ = request;
  title_ = title;
  dropNext_ = false;
  const QString parameters = describeParameters(request.params);
  link_->started(tr("%1 on %2 (second view)").arg(title, QFileInfo(QString::fromStdString(request.inputPath)).fileName()),
                 parameters);
  return {};
}

void CompareSlot::clear() {
  if (job_.isRunning()) {
    dropNext_ = true;
    job_.cancel();
  }
  hasResult_ = false;
  layers_->clear();
  if (view_) view_->setCaption(caption());
}

QString CompareSlot::caption() const {
  if (!hasResult_) return tr("Original");
  const QString parameters = describeParameters(request_.params);
  return parameters.isEmpty() ? title_ : QStringLiteral("%1 (%2)").arg(title_, parameters);
}

void CompareSlot::onFinished() {
  const JobResult& result = job_.result();
  if (dropNext_ || !view_) {
    dropNext_ = false;
    Q_EMIT finished(false, QString());
    return;
  }
  if (!result.ok) {
    Q_EMIT finished(false, result.cancelled() ? QString() : QString::fromStdString(result.error.message));
    return;
  }
  layers_->clear();
  for (const Layer& layer : result.layers) {
    auto drawn = widgets::layerFromBackend(layer);
    if (!drawn) continue;  // tables: the Results panel shows the main run's
    drawn->setOpacity(drawn->kind() == widgets::ViewLayer::Kind::Heatmap ? kHeatmapOpacity : kOtherOpacity);
    layers_->add(std::move(drawn));
  }
  hasResult_ = true;
  view_->setShowOriginal(false);
  view_->setCaption(caption());
  Q_EMIT finished(true, QString());
}

}  // namespace loupe::gui
