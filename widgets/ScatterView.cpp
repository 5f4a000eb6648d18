#include "ScatterView.h"

#include "ScatterColors.h"

#include <QDragEnterEvent>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QKeyEvent>
#include <QMimeData>
#include <QMouseEvent>
#include <QOpenGLBuffer>
#include <QOpenGLContext>
#include <QOpenGLShaderProgram>
#include <QOpenGLVertexArrayObject>
#include <QPainter>
#include <QPainterPath>
#include <QSurfaceFormat>
#include <QTimer>
#include <QUrl>
#include <QVector2D>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#ifndef GL_PROGRAM_POINT_SIZE
#define GL_PROGRAM_POINT_SIZE 0x8642
#endif

namespace loupe::widgets {

namespace {

// pass 0: every point as it is (no selection); pass 1: the unselected points greyed, the selected ones
// skipped (moved outside the clip volume); pass 2: the selected points (drawn by index, on top).
const char* kVertexShader = R"(
layout(location = 0) in vec2 position;
layout(location = 1) in vec4 color;
layout(location = 2) in float selected;
uniform vec2 centre;
uniform vec2 toNdc;
uniform float pointSize;
uniform float alpha;
uniform int pass;
out vec4 vColor;
void main() {
  vec4 c = color;
  if (pass == 1) {
    if (selected > 0.5) {
      gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
      gl_PointSize = 1.0;
      vColor = vec4(0.0);
      return;
    }
    c.rgb = mix(c.rgb, vec3(0.62), 0.75);
    c.a *= 0.35;
  }
  gl_Position = vec4((position - centre) * toNdc, 0.0, 1.0);
  gl_PointSize = pointSize;
  vColor = vec4(c.rgb, c.a * alpha);
}
)";

const char* kFragmentShader = R"(
in vec4 vColor;
uniform float pointSize;
out vec4 fragColor;
void main() {
  float a = 1.0;
  if (pointSize >= 3.0) {
    vec2 d = gl_PointCoord * 2.0 - 1.0;
    float edge = (1.0 - length(d)) * 0.5 * pointSize;  // pixels inside the disc's rim
    a = clamp(edge + 0.5, 0.0, 1.0);
    if (a <= 0.0) discard;
  }
  fragColor = vec4(vColor.rgb, vColor.a * a);
}
)";

std::uint32_t toRgba8(QRgb c) {
  // Bytes R, G, B, A in memory, whatever the host's endianness.
  std::uint32_t out = 0;
  auto* b = reinterpret_cast<unsigned char*>(&out);
  b[0] = static_cast<unsigned char>(qRed(c));
  b[1] = static_cast<unsigned char>(qGreen(c));
  b[2] = static_cast<unsigned char>(qBlue(c));
  b[3] = static_cast<unsigned char>(qAlpha(c));
  return out;
}

constexpr QRgb kDefaultPointColor = 0xff4c72b0;
constexpr std::int64_t kLodMinPoints = 50000;  // the level-of-detail subset never goes below this
constexpr double kClickSlop = 4.0;  // pixels a press may move and still be a click

}  // namespace

ScatterView::ScatterView(QWidget* parent) : QOpenGLWidget(parent) {
  QSurfaceFormat format = QSurfaceFormat::defaultFormat();
  if (QOpenGLContext::openGLModuleType() == QOpenGLContext::LibGL) {
    format.setRenderableType(QSurfaceFormat::OpenGL);
    format.setVersion(3, 3);
    format.setProfile(QSurfaceFormat::CoreProfile);
  } else {
    format.setRenderableType(QSurfaceFormat::OpenGLES);
    format.setVersion(3, 0);
  }
  setFormat(format);
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setAcceptDrops(true);
  setMinimumSize(200, 150);
}

ScatterView::~ScatterView() {
  if (!program_) return;
  makeCurrent();
  vao_.reset();
  posBuffer_.reset();
  colorBuffer_.reset();
  selBuffer_.reset();
  selIndexBuffer_.reset();
  lodIndexBuffer_.reset();
  program_.reset();
  doneCurrent();
}

void ScatterView::setPositions(std::vector<float> xy, bool keepView) {
  if (xy.size() % 2) xy.pop_back();
  const bool sameCount = xy.size() == xy_.size() && !xy_.empty();
  xy_ = std::move(xy);
  const auto n = static_cast<std::size_t>(count());
  indexDirty_ = true;
  positionsDirty_ = true;
  if (!sameCount) {
    if (rgba_.size() != n) {
      rgba_.resize(n, toRgba8(kDefaultPointColor));
      colorsDirty_ = true;
    }
    selectedMask_.assign(n, 0);
    const bool hadSelection = !selected_.empty();
    selected_.clear();
    selectionDirty_ = true;
    highlighted_.clear();
    focus_ = -1;
    setHovered(-1);
    if (!keepView || !viewSet_) fitToData();
    if (hadSelection) Q_EMIT selectionChanged();
  } else if (hovered_ >= 0) {
    hoverPos_ = dataToWidget(position(hovered_));
  }
  update();
}

QPointF ScatterView::position(std::int64_t id) const {
  if (id < 0 || id >= count()) return {};
  return {xy_[2 * std::size_t(id)], xy_[2 * std::size_t(id) + 1]};
}

void ScatterView::setColors(const std::vector<QRgb>& colors) {
  const auto n = static_cast<std::size_t>(count());
  rgba_.assign(n, toRgba8(kScatterMissingColor));
  const std::size_t m = std::min(n, colors.size());
  for (std::size_t i = 0; i < m; ++i) rgba_[i] = toRgba8(colors[i]);
  colorsDirty_ = true;
  update();
}

void ScatterView::setLegend(std::vector<std::pair<QString, QRgb>> entries, const QString& title) {
  legend_ = std::move(entries);
  legendTitle_ = title;
  update();
}

void ScatterView::setBackground(QRgb color) {
  background_ = color;
  update();
}

void ScatterView::setPointAlpha(float alpha) {
  alpha_ = std::clamp(alpha, 0.02f, 1.0f);
  update();
}

void ScatterView::setPointScale(float scale) {
  pointScale_ = std::clamp(scale, 0.1f, 20.0f);
  update();
}

float ScatterView::basePointSize() const {
  // At the fitted zoom: about the spacing the points would have if spread evenly over the widget.
  const double n = std::max<double>(1.0, double(count()));
  const double spacing = std::sqrt(double(width()) * double(height()) / n);
  return static_cast<float>(std::clamp(spacing * 0.55, 1.5, 8.0));
}

float ScatterView::pointSize() const {
  const double zoom = fitScale_ > 0.0 ? scale_ / fitScale_ : 1.0;
  const double size = basePointSize() * std::sqrt(std::max(zoom, 1e-6)) * pointScale_;
  return static_cast<float>(std::clamp(size, 1.0, 40.0));
}

void ScatterView::fitToData() {
  const ScatterBounds& b = index().bounds();
  const double w = std::max(1, width()), h = std::max(1, height());
  if (b.empty) {
    centre_ = {0.0, 0.0};
    scale_ = fitScale_ = std::min(w, h) / 2.0;
  } else {
    double bw = b.maxX - b.minX, bh = b.maxY - b.minY;
    if (!(bw > 0.0) && !(bh > 0.0)) bw = bh = 1.0;
    centre_ = {0.5 * (b.minX + b.maxX), 0.5 * (b.minY + b.maxY)};
    // 4% margin on each side so the outermost points are whole.
    const double sx = bw > 0.0 ? w / (bw * 1.08) : 1e300, sy = bh > 0.0 ? h / (bh * 1.08) : 1e300;
    scale_ = fitScale_ = std::min(sx, sy);
  }
  viewSet_ = true;
  update();
  Q_EMIT viewChanged();
}

void ScatterView::setView(QPointF centre, double pixelsPerUnit) {
  if (!(pixelsPerUnit > 0.0) || !std::isfinite(pixelsPerUnit)) return;
  centre_ = centre;
  scale_ = pixelsPerUnit;
  viewSet_ = true;
  update();
  Q_EMIT viewChanged();
}

QPointF ScatterView::dataToWidget(QPointF p) const {
  return {width() / 2.0 + (p.x() - centre_.x()) * scale_, height() / 2.0 - (p.y() - centre_.y()) * scale_};
}

QPointF ScatterView::widgetToData(QPointF p) const {
  return {centre_.x() + (p.x() - width() / 2.0) / scale_, centre_.y() - (p.y() - height() / 2.0) / scale_};
}

void ScatterView::zoomAt(QPointF widgetPos, double factor) {
  if (!(factor > 0.0)) return;
  const QPointF anchor = widgetToData(widgetPos);
  // Between 1/20 of the fitted zoom and a million times it.
  const double next = std::clamp(scale_ * factor, fitScale_ / 20.0, fitScale_ * 1e6);
  scale_ = next;
  // Keep `anchor` under widgetPos.
  centre_ = {anchor.x() - (widgetPos.x() - width() / 2.0) / scale_, anchor.y() + (widgetPos.y() - height() / 2.0) / scale_};
  update();
  Q_EMIT viewChanged();
}

void ScatterView::panBy(QPointF widgetDelta) {
  centre_ -= QPointF(widgetDelta.x() / scale_, -widgetDelta.y() / scale_);
  update();
  Q_EMIT viewChanged();
}

void ScatterView::setMode(Mode mode) {
  mode_ = mode;
  setCursor(mode == Mode::Pan ? Qt::OpenHandCursor : Qt::CrossCursor);
}

const ScatterIndex& ScatterView::index() const {
  if (indexDirty_) {
    index_.build(xy_.data(), count());
    indexDirty_ = false;
  }
  return index_;
}

void ScatterView::setSelection(std::vector<std::int32_t> ids) {
  std::fill(selectedMask_.begin(), selectedMask_.end(), 0);
  for (const std::int32_t id : ids)
    if (id >= 0 && id < count()) selectedMask_[static_cast<std::size_t>(id)] = 1;
  selectionUpdated();
}

void ScatterView::clearSelection() {
  if (selected_.empty()) return;
  std::fill(selectedMask_.begin(), selectedMask_.end(), 0);
  selectionUpdated();
}

void ScatterView::applySelectionMask(const std::vector<std::uint8_t>& mask, SelectionOp op) {
  const std::size_t n = selectedMask_.size();
  switch (op) {
    case SelectionOp::Replace: selectedMask_ = mask; break;
    case SelectionOp::Add:
      for (std::size_t i = 0; i < n; ++i) selectedMask_[i] |= mask[i];
      break;
    case SelectionOp::Subtract:
      for (std::size_t i = 0; i < n; ++i)
        if (mask[i]) selectedMask_[i] = 0;
      break;
  }
  selectionUpdated();
}

void ScatterView::selectionUpdated() {
  selected_.clear();
  for (std::size_t i = 0; i < selectedMask_.size(); ++i)
    if (selectedMask_[i]) selected_.push_back(static_cast<std::int32_t>(i));
  selectionDirty_ = true;
  update();
  Q_EMIT selectionChanged();
}

std::int64_t ScatterView::selectRect(const QRectF& r, SelectionOp op) {
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(count()), 0);
  const QRectF n = r.normalized();
  index().markRect(n.left(), n.top(), n.right(), n.bottom(), mask);
  applySelectionMask(mask, op);
  return static_cast<std::int64_t>(selected_.size());
}

std::int64_t ScatterView::selectPolygon(const QPolygonF& polygon, SelectionOp op) {
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(count()), 0);
  std::vector<double> p;
  p.reserve(static_cast<std::size_t>(polygon.size()) * 2);
  for (const QPointF& v : polygon) {
    p.push_back(v.x());
    p.push_back(v.y());
  }
  index().markPolygon(p, mask);
  applySelectionMask(mask, op);
  return static_cast<std::int64_t>(selected_.size());
}

std::int32_t ScatterView::pointAt(QPointF widgetPos, double radiusPixels) const {
  if (radiusPixels < 0.0) radiusPixels = pointSize() / 2.0 + 4.0;
  const QPointF d = widgetToData(widgetPos);
  return index().nearest(d.x(), d.y(), radiusPixels / scale_);
}

void ScatterView::setHoverProviders(std::function<QImage(std::int32_t)> thumbnail,
                                    std::function<QString(std::int32_t)> text) {
  thumbnailProvider_ = std::move(thumbnail);
  textProvider_ = std::move(text);
}

void ScatterView::setHighlighted(std::vector<std::int32_t> ids, std::int32_t focus) {
  highlighted_ = std::move(ids);
  focus_ = focus;
  update();
}

void ScatterView::setMarker(QPointF dataPos, const QString& label) {
  marker_ = dataPos;
  markerLabel_ = label;
  markerShown_ = true;
  update();
}

void ScatterView::clearMarker() {
  markerShown_ = false;
  update();
}

void ScatterView::setHovered(std::int32_t id) {
  if (id == hovered_) return;
  hovered_ = id;
  hoverImage_ = {};
  hoverText_.clear();
  if (id >= 0) {
    if (thumbnailProvider_) hoverImage_ = thumbnailProvider_(id);
    if (textProvider_) hoverText_ = textProvider_(id);
    if (hoverText_.isEmpty()) hoverText_ = tr("point %1").arg(id);
  }
  update();
  Q_EMIT hoveredChanged(id);
}

// --- OpenGL -------------------------------------------------------------------------------------------

void ScatterView::initializeGL() {
  initializeOpenGLFunctions();
  gles_ = context()->isOpenGLES();
  const auto* vendor = reinterpret_cast<const char*>(glGetString(GL_VENDOR));
  const auto* renderer = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
  const auto* version = reinterpret_cast<const char*>(glGetString(GL_VERSION));
  glInfo_ = QStringLiteral("%1 / %2 / %3")
                .arg(QString::fromLatin1(vendor ? vendor : "?"), QString::fromLatin1(renderer ? renderer : "?"),
                     QString::fromLatin1(version ? version : "?"));
  const QByteArray header = gles_ ? QByteArrayLiteral("#version 300 es\nprecision highp float;\nprecision highp int;\n")
                                  : QByteArrayLiteral("#version 330 core\n");
  program_ = std::make_unique<QOpenGLShaderProgram>();
  const bool ok = program_->addShaderFromSourceCode(QOpenGLShader::Vertex, header + kVertexShader) &&
                  program_->addShaderFromSourceCode(QOpenGLShader::Fragment, header + kFragmentShader) &&
                  program_->link();
  if (!ok) {
    qWarning("ScatterView: the point shader does not build on %s: %s", qPrintable(glInfo_), qPrintable(program_->log()));
    program_.reset();
    return;
  }
  vao_ = std::make_unique<QOpenGLVertexArrayObject>();
  vao_->create();
  posBuffer_ = std::make_unique<QOpenGLBuffer>(QOpenGLBuffer::VertexBuffer);
  colorBuffer_ = std::make_unique<QOpenGLBuffer>(QOpenGLBuffer::VertexBuffer);
  selBuffer_ = std::make_unique<QOpenGLBuffer>(QOpenGLBuffer::VertexBuffer);
  selIndexBuffer_ = std::make_unique<QOpenGLBuffer>(QOpenGLBuffer::IndexBuffer);
  lodIndexBuffer_ = std::make_unique<QOpenGLBuffer>(QOpenGLBuffer::IndexBuffer);
  lodBuiltFor_ = -1;
  for (QOpenGLBuffer* b :
       {posBuffer_.get(), colorBuffer_.get(), selBuffer_.get(), selIndexBuffer_.get(), lodIndexBuffer_.get()}) {
    b->create();
    b->setUsagePattern(QOpenGLBuffer::DynamicDraw);
  }
  allocatedPoints_ = 0;
  allocatedSelected_ = 0;
  positionsDirty_ = colorsDirty_ = selectionDirty_ = true;
}

void ScatterView::resizeGL(int, int) {
  // Keep the data centre; the fitted zoom follows the widget's size so point sizes stay sensible.
  const double zoom = fitScale_ > 0.0 ? scale_ / fitScale_ : 1.0;
  const ScatterBounds& b = index().bounds();
  if (!b.empty) {
    double bw = b.maxX - b.minX, bh = b.maxY - b.minY;
    if (!(bw > 0.0) && !(bh > 0.0)) bw = bh = 1.0;
    const double sx = bw > 0.0 ? width() / (bw * 1.08) : 1e300, sy = bh > 0.0 ? height() / (bh * 1.08) : 1e300;
    fitScale_ = std::min(sx, sy);
    scale_ = fitScale_ * zoom;
  }
}

void ScatterView::uploadBuffers() {
  const std::int64_t n = count();
  const bool realloc = n != allocatedPoints_;
  vao_->bind();
  if (realloc || positionsDirty_) {
    posBuffer_->bind();
    if (realloc) posBuffer_->allocate(xy_.data(), static_cast<int>(n * 2 * sizeof(float)));
    else posBuffer_->write(0, xy_.data(), static_cast<int>(n * 2 * sizeof(float)));  // glBufferSubData
    glEnableVertexAttribArray(0);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, nullptr);
  }
  if (realloc || colorsDirty_) {
    colorBuffer_->bind();
    if (realloc) colorBuffer_->allocate(rgba_.data(), static_cast<int>(n * 4));
    else colorBuffer_->write(0, rgba_.data(), static_cast<int>(n * 4));
    glEnableVertexAttribArray(1);
    glVertexAttribPointer(1, 4, GL_UNSIGNED_BYTE, GL_TRUE, 0, nullptr);
  }
  if (realloc || selectionDirty_) {
    selBuffer_->bind();
    if (realloc) selBuffer_->allocate(selectedMask_.data(), static_cast<int>(n));
    else selBuffer_->write(0, selectedMask_.data(), static_cast<int>(n));
    glEnableVertexAttribArray(2);
    glVertexAttribPointer(2, 1, GL_UNSIGNED_BYTE, GL_FALSE, 0, nullptr);
    selIndexBuffer_->bind();  // element array binding is part of the VAO
    const auto bytes = static_cast<std::int64_t>(selected_.size() * sizeof(std::int32_t));
    if (bytes > allocatedSelected_ || realloc) {
      selIndexBuffer_->allocate(selected_.data(), static_cast<int>(bytes));
      allocatedSelected_ = bytes;
    } else if (bytes > 0) {
      selIndexBuffer_->write(0, selected_.data(), static_cast<int>(bytes));
    }
  }
  allocatedPoints_ = n;
  positionsDirty_ = colorsDirty_ = selectionDirty_ = false;
}

void ScatterView::paintGL() {
  ++frames_;
  glClearColor(qRed(background_) / 255.f, qGreen(background_) / 255.f, qBlue(background_) / 255.f, 1.f);
  glClear(GL_COLOR_BUFFER_BIT);
  if (program_ && count() > 0) {
    const float dpr = static_cast<float>(devicePixelRatioF());
    glViewport(0, 0, static_cast<int>(width() * dpr), static_cast<int>(height() * dpr));
    glDisable(GL_DEPTH_TEST);
    glEnable(GL_BLEND);
    glBlendFuncSeparate(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
    if (!gles_) glEnable(GL_PROGRAM_POINT_SIZE);
    program_->bind();
    uploadBuffers();
    program_->setUniformValue("centre", QVector2D(static_cast<float>(centre_.x()), static_cast<float>(centre_.y())));
    program_->setUniformValue("toNdc", QVector2D(static_cast<float>(2.0 * scale_ / std::max(1, width())),
                                                 static_cast<float>(2.0 * scale_ / std::max(1, height()))));
    program_->setUniformValue("pointSize", pointSize() * dpr);
    program_->setUniformValue("alpha", alpha_);
    const bool anySelected = !selected_.empty();
    program_->setUniformValue("pass", anySelected ? 1 : 0);
    const std::int64_t n = count();
    // Level of detail: during an interaction, when full frames are over budget, a random subset.
    std::int64_t drawn = n;
    if (interacting_ && fullFrameMs_ > budgetMs_ && n > kLodMinPoints)
      drawn = std::clamp<std::int64_t>(static_cast<std::int64_t>(double(n) * budgetMs_ / fullFrameMs_), kLodMinPoints, n);
    QElapsedTimer frameTimer;
    frameTimer.start();
    if (drawn < n) {
      if (lodBuiltFor_ != n) {
        std::vector<std::int32_t> order(static_cast<std::size_t>(n));
        std::iota(order.begin(), order.end(), 0);
        std::mt19937 rng(12345);
        std::shuffle(order.begin(), order.end(), rng);
        lodIndexBuffer_->bind();
        lodIndexBuffer_->allocate(order.data(), static_cast<int>(order.size() * sizeof(std::int32_t)));
        lodBuiltFor_ = n;
      }
      lodIndexBuffer_->bind();  // element array binding is VAO state: the selection's is restored below
      glDrawElements(GL_POINTS, static_cast<GLsizei>(drawn), GL_UNSIGNED_INT, nullptr);
      selIndexBuffer_->bind();
    } else {
      glDrawArrays(GL_POINTS, 0, static_cast<GLsizei>(n));
    }
    drawnLastFrame_ = drawn;
    if (anySelected) {
      program_->setUniformValue("pass", 2);
      const auto selectedDrawn = std::min<std::int64_t>(static_cast<std::int64_t>(selected_.size()), drawn);
      glDrawElements(GL_POINTS, static_cast<GLsizei>(selectedDrawn), GL_UNSIGNED_INT, nullptr);
    }
    if (drawn == n && n > kLodMinPoints) {
      // The cost of a full frame decides the subset size of the next interaction (large sets only, so
      // small plots never wait for the GPU here).
      glFinish();
      fullFrameMs_ = frameTimer.nsecsElapsed() / 1e6;
    }
    vao_->release();
    program_->release();
    glDisable(GL_BLEND);
  }
  paintOverlays();
}

void ScatterView::paintOverlays() {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  if (!program_ && count() > 0) {
    p.setPen(Qt::red);
    p.drawText(rect(), Qt::AlignCenter, tr("OpenGL 3.3 / ES 3.0 is not available here (%1)").arg(glInfo_));
  }
  const QFont base = font();
  // Highlighted points (neighbours) and the focus point.
  if (!highlighted_.empty() || focus_ >= 0) {
    const double r = pointSize() / 2.0 + 3.0;
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(QColor(20, 20, 20, 220), 1.6));
    for (const std::int32_t id : highlighted_) {
      if (id < 0 || id >= count()) continue;
      p.drawEllipse(dataToWidget(position(id)), r, r);
    }
    if (focus_ >= 0 && focus_ < count()) {
      p.setPen(QPen(QColor(230, 30, 30), 2.5));
      p.drawEllipse(dataToWidget(position(focus_)), r + 3.0, r + 3.0);
    }
  }
  // Marker (a dropped image): a diamond with its label.
  if (markerShown_) {
    const QPointF c = dataToWidget(marker_);
    QPolygonF diamond;
    diamond << c + QPointF(0, -11) << c + QPointF(11, 0) << c + QPointF(0, 11) << c + QPointF(-11, 0);
    p.setPen(QPen(Qt::white, 2.0));
    p.setBrush(QColor(230, 30, 30));
    p.drawPolygon(diamond);
    if (!markerLabel_.isEmpty()) {
      QFont bold = base;
      bold.setBold(true);
      p.setFont(bold);
      const QRectF text = p.boundingRect(QRectF(c + QPointF(14, -10), QSizeF(400, 20)), Qt::AlignLeft, markerLabel_);
      p.fillRect(text.adjusted(-3, -1, 3, 1), QColor(255, 255, 255, 210));
      p.setPen(QColor(150, 0, 0));
      p.drawText(text, Qt::AlignLeft, markerLabel_);
      p.setFont(base);
    }
  }
  // The rectangle or lasso being drawn.
  if (drag_ == Drag::Rectangle || drag_ == Drag::Lasso) {
    p.setPen(QPen(QColor(20, 20, 20), 1.2, Qt::DashLine));
    p.setBrush(QColor(60, 120, 220, 40));
    if (drag_ == Drag::Rectangle) p.drawRect(QRectF(pressPos_, lastPos_).normalized());
    else p.drawPolygon(lasso_);
  }
  // Legend (top right).
  if (!legend_.empty()) {
    const QFontMetrics fm(base);
    const int rowH = fm.height() + 2;
    int textW = fm.horizontalAdvance(legendTitle_);
    for (const auto& e : legend_) textW = std::max(textW, fm.horizontalAdvance(e.first) + 18);
    const int rows = static_cast<int>(legend_.size()) + (legendTitle_.isEmpty() ? 0 : 1);
    const QRect box(width() - textW - 22, 8, textW + 14, rows * rowH + 8);
    p.setPen(QColor(0, 0, 0, 60));
    p.setBrush(QColor(255, 255, 255, 225));
    p.drawRoundedRect(box, 4, 4);
    int y = box.top() + 4;
    if (!legendTitle_.isEmpty()) {
      QFont bold = base;
      bold.setBold(true);
      p.setFont(bold);
      p.setPen(Qt::black);
      p.drawText(QRect(box.left() + 7, y, textW, rowH), Qt::AlignVCenter | Qt::AlignLeft, legendTitle_);
      p.setFont(base);
      y += rowH;
    }
    for (const auto& e : legend_) {
      p.setPen(Qt::NoPen);
      p.setBrush(QColor::fromRgba(e.second | 0xff000000));
      p.drawEllipse(QPointF(box.left() + 12, y + rowH / 2.0), 5, 5);
      p.setPen(Qt::black);
      p.drawText(QRect(box.left() + 25, y, textW, rowH), Qt::AlignVCenter | Qt::AlignLeft, e.first);
      y += rowH;
    }
  }
  // Hover: a ring on the point and a card with its thumbnail and text next to it.
  if (hovered_ >= 0 && hovered_ < count() && drag_ == Drag::None) {
    const QPointF c = dataToWidget(position(hovered_));
    const double r = pointSize() / 2.0 + 3.0;
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(Qt::black, 2.0));
    p.drawEllipse(c, r, r);
    QImage thumb = hoverImage_;
    if (!thumb.isNull()) {
      const int edge = 112;
      const bool small = thumb.width() < edge && thumb.height() < edge;
      thumb = thumb.scaled(edge, edge, Qt::KeepAspectRatio, small ? Qt::FastTransformation : Qt::SmoothTransformation);
    }
    const QFontMetrics fm(base);
    const QRect textRect = fm.boundingRect(QRect(0, 0, 260, 400), Qt::TextWordWrap, hoverText_);
    const int w = std::max(thumb.width(), textRect.width()) + 12;
    const int h = (thumb.isNull() ? 0 : thumb.height() + 6) + textRect.height() + 12;
    QPointF at = c + QPointF(14, 14);
    if (at.x() + w > width()) at.setX(c.x() - 14 - w);
    if (at.y() + h > height()) at.setY(c.y() - 14 - h);
    const QRectF card(at, QSizeF(w, h));
    p.setPen(QColor(0, 0, 0, 90));
    p.setBrush(QColor(255, 255, 255, 240));
    p.drawRoundedRect(card, 5, 5);
    int y = static_cast<int>(card.top()) + 6;
    if (!thumb.isNull()) {
      p.drawImage(QPointF(card.left() + (w - thumb.width()) / 2.0, y), thumb);
      y += thumb.height() + 6;
    }
    p.setPen(Qt::black);
    p.drawText(QRect(static_cast<int>(card.left()) + 6, y, textRect.width() + 2, textRect.height()), Qt::TextWordWrap,
               hoverText_);
  }
}

double ScatterView::renderNow() {
  // Draws into the widget's framebuffer directly (a repaint() may be skipped while the window system
  // throttles updates), waits for the GPU, then schedules the normal composition on screen.
  if (!context() || !isValid()) {
    QElapsedTimer timer;
    timer.start();
    repaint();
    return timer.nsecsElapsed() / 1e6;
  }
  makeCurrent();
  QElapsedTimer timer;
  timer.start();
  paintGL();
  glFinish();
  const double elapsed = timer.nsecsElapsed() / 1e6;
  doneCurrent();
  update();
  return elapsed;
}

// --- Interaction --------------------------------------------------------------------------------------

ScatterView::SelectionOp ScatterView::opFor(Qt::KeyboardModifiers modifiers) const {
  if (modifiers & Qt::ShiftModifier) return SelectionOp::Add;
  if (modifiers & Qt::ControlModifier) return SelectionOp::Subtract;
  return SelectionOp::Replace;
}

void ScatterView::beginInteraction() {
  interacting_ = true;
  if (!settleTimer_) {
    settleTimer_ = new QTimer(this);
    settleTimer_->setSingleShot(true);
    connect(settleTimer_, &QTimer::timeout, this, [this] {
      interacting_ = false;
      if (drawnLastFrame_ < count()) update();  // the full set again
    });
  }
  settleTimer_->start(200);
}

void ScatterView::wheelEvent(QWheelEvent* event) {
  const double steps = event->angleDelta().y() / 120.0;
  if (steps == 0.0) return;
  beginInteraction();
  zoomAt(event->position(), std::pow(1.2, steps));
  event->accept();
}

void ScatterView::mousePressEvent(QMouseEvent* event) {
  pressPos_ = lastPos_ = event->position();
  pressButton_ = event->button();
  moved_ = false;
  dragOp_ = opFor(event->modifiers());
  if (event->button() == Qt::LeftButton && mode_ == Mode::Rectangle) drag_ = Drag::Rectangle;
  else if (event->button() == Qt::LeftButton && mode_ == Mode::Lasso) {
    drag_ = Drag::Lasso;
    lasso_ = QPolygonF{pressPos_};
  } else {
    drag_ = Drag::Pan;
    setCursor(Qt::ClosedHandCursor);
  }
  setHovered(-1);
  event->accept();
}

void ScatterView::mouseMoveEvent(QMouseEvent* event) {
  const QPointF pos = event->position();
  if (drag_ == Drag::None) {
    hoverPos_ = pos;
    setHovered(pointAt(pos));
    return;
  }
  if (QLineF(pos, pressPos_).length() > kClickSlop) moved_ = true;
  if (moved_) beginInteraction();
  switch (drag_) {
    case Drag::Pan: panBy(pos - lastPos_); break;
    case Drag::Rectangle: update(); break;
    case Drag::Lasso:
      if (QLineF(pos, lasso_.back()).length() >= 2.0) lasso_ << pos;
      update();
      break;
    case Drag::None: break;
  }
  lastPos_ = pos;
  event->accept();
}

void ScatterView::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() != pressButton_) return;
  const QPointF pos = event->position();
  const Drag drag = drag_;
  drag_ = Drag::None;
  setMode(mode_);  // restores the cursor
  if (!moved_) {
    const std::int32_t id = pointAt(pos);
    if (id >= 0) Q_EMIT pointClicked(id);
    else if (drag != Drag::Pan && dragOp_ == SelectionOp::Replace) clearSelection();
    update();
    return;
  }
  if (drag == Drag::Rectangle) {
    selectRect(QRectF(widgetToData(pressPos_), widgetToData(pos)), dragOp_);
  } else if (drag == Drag::Lasso) {
    lasso_ << pos;
    QPolygonF data;
    data.reserve(lasso_.size());
    for (const QPointF& v : lasso_) data << widgetToData(v);
    selectPolygon(data, dragOp_);
  }
  lasso_.clear();
  update();
  event->accept();
}

void ScatterView::leaveEvent(QEvent* event) {
  setHovered(-1);
  QOpenGLWidget::leaveEvent(event);
}

void ScatterView::keyPressEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Escape) clearSelection();
  else if (event->key() == Qt::Key_F) fitToData();
  else if (event->key() == Qt::Key_Plus || event->key() == Qt::Key_Equal) zoomAt(rect().center(), 1.25);
  else if (event->key() == Qt::Key_Minus) zoomAt(rect().center(), 0.8);
  else {
    QOpenGLWidget::keyPressEvent(event);
    return;
  }
  event->accept();
}

void ScatterView::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void ScatterView::dragMoveEvent(QDragMoveEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void ScatterView::dropEvent(QDropEvent* event) {
  QStringList paths;
  for (const QUrl& url : event->mimeData()->urls())
    if (url.isLocalFile()) paths << url.toLocalFile();
  if (paths.isEmpty()) return;
  event->acceptProposedAction();
  Q_EMIT filesDropped(paths, event->position());
}

}  // namespace loupe::widgets
