// VolumeView3D: VTK rendering into a Qt 6 QOpenGLWidget (see VolumeView3D.h).
//
// How VTK and Qt share the context: VTK's vtkGenericOpenGLRenderWindow renders into its own offscreen
// framebuffers inside the context Qt made current for paintGL (no blit of its own: NoBlit); paintGL then
// blits VTK's display framebuffer into the widget's framebuffer object and clears the alpha channel
// (Mesa would otherwise blend the picture with what is behind the widget). Outside paintGL the window is
// not "ready for rendering", so nothing VTK does on its own (interactor styles) touches OpenGL; every
// change asks Qt for a repaint instead.

#include "VolumeView3D.h"

#include <vtkActor.h>
#include <vtkAppendPolyData.h>
#include <vtkCallbackCommand.h>
#include <vtkCamera.h>
#include <vtkColorTransferFunction.h>
#include <vtkCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkImageActor.h>
#include <vtkImageData.h>
#include <vtkImageProperty.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkLineSource.h>
#include <vtkMatrix4x4.h>
#include <vtkNew.h>
#include <vtkOpenGLFramebufferObject.h>
#include <vtkOpenGLState.h>
#include <vtkPiecewiseFunction.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>
#include <vtkSmartVolumeMapper.h>
#include <vtkSphereSource.h>
#include <vtkVolume.h>
#include <vtkVolumeProperty.h>

#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLExtraFunctions>
#include <QPainter>
#include <QSurfaceFormat>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <map>

#include "VtkScene.h"

namespace loupe::widgets {

namespace {

// Distinguishable colours for labels without a style (label 1 -> first entry; cycles).
const QColor kPalette[] = {
    QColor(230, 159, 0),  QColor(86, 180, 233), QColor(0, 158, 115),  QColor(240, 228, 66),
    QColor(0, 114, 178),  QColor(213, 94, 0),   QColor(204, 121, 167), QColor(220, 50, 47),
    QColor(133, 153, 0),  QColor(108, 113, 196), QColor(42, 161, 152), QColor(181, 137, 0),
};

QColor paletteColor(std::int32_t label) {
  const int n = int(sizeof(kPalette) / sizeof(kPalette[0]));
  const int i = int((std::abs(std::int64_t(label)) + n - 1) % n);
  return kPalette[i];
}

std::array<double, 6> emptyBounds() { return {0, 0, 0, 0, 0, 0}; }

bool validBounds(const double b[6]) { return b[0] <= b[1] && b[2] <= b[3] && b[4] <= b[5]; }

}  // namespace

struct VolumeView3D::Impl {
  VolumeView3D* q = nullptr;
  vtkNew<vtkGenericOpenGLRenderWindow> window;
  vtkNew<vtkRenderer> renderer;
  vtkNew<vtkGenericRenderWindowInteractor> interactor;
  vtkNew<vtkInteractorStyleTrackballCamera> style;
  vtkNew<vtkCallbackCommand> windowEvents;
  bool ready = false;
  bool finalized = false;
  QString error;

  // Intensity volume.
  Volume geometry;  // the volume's grid without voxels (for crosshair slices)
  bool hasVolume = false;
  vtkSmartPointer<vtkImageData> image;
  vtkNew<vtkSmartVolumeMapper> volumeMapper;
  vtkNew<vtkVolume> volumeProp;
  vtkNew<vtkVolumeProperty> volumeProperty;
  std::array<vtkNew<vtkImageActor>, 3> slices;
  VolumeMode mode = VolumeMode::Rendering;
  std::array<double, 2> window_{0, 1};

  // Label surfaces, by set.
  struct Surface {
    std::int32_t label = 0;
    vtkSmartPointer<vtkPolyData> polys;
    vtkSmartPointer<vtkActor> actor;
  };
  std::map<int, std::vector<Surface>> sets;
  std::map<int, std::vector<LabelStyle>> styles;
  double opacityOverride = -1.0;

  // Crosshair.
  vtkNew<vtkLineSource> lineX, lineY, lineZ;
  vtkNew<vtkAppendPolyData> lines;
  vtkNew<vtkActor> linesActor;
  vtkNew<vtkSphereSource> ball;
  vtkNew<vtkActor> ballActor;
  std::array<double, 3> cross{0, 0, 0};
  bool crossSet = false;
  bool crossVisible = true;

  bool cameraNeedsReset = true;

  explicit Impl(VolumeView3D* owner) : q(owner) {
    window->AddRenderer(renderer);
    window->SetMultiSamples(0);
    window->SetReadyForRendering(false);
    interactor->SetRenderWindow(window);
    interactor->SetInteractorStyle(style);
    interactor->EnableRenderOff();  // VTK never renders on its own: paintGL does, after update()
    style->SetDefaultRenderer(renderer);
    style->AutoAdjustCameraClippingRangeOn();
    renderer->SetBackground(0.11, 0.12, 0.14);
    renderer->SetBackground2(0.26, 0.28, 0.33);
    renderer->GradientBackgroundOn();
    renderer->SetUseDepthPeeling(true);
    renderer->SetUseDepthPeelingForVolumes(true);
    renderer->SetMaximumNumberOfPeels(8);
    renderer->SetOcclusionRatio(0.0);

    windowEvents->SetClientData(this);
    windowEvents->SetCallback([](vtkObject*, unsigned long id, void* client, void* callData) {
      auto* self = static_cast<Impl*>(client);
      if (id == vtkCommand::WindowMakeCurrentEvent) {
        // Only when another context is current: QOpenGLWidget::makeCurrent() also binds the widget's
        // framebuffer, which would pull it from under VTK in the middle of a render.
        if (QOpenGLContext::currentContext() != self->q->context()) self->q->makeCurrent();
      } else if (id == vtkCommand::WindowIsCurrentEvent) {
        QOpenGLContext* current = QOpenGLContext::currentContext();
        const bool isCurrent = current != nullptr && current == self->q->context();
        // VTK asks through the call data (a bool*); SetIsCurrent keeps its cached answer in step.
        if (callData) *static_cast<bool*>(callData) = isCurrent;
        self->window->SetIsCurrent(isCurrent);
      }
    });
    window->AddObserver(vtkCommand::WindowMakeCurrentEvent, windowEvents);
    window->AddObserver(vtkCommand::WindowIsCurrentEvent, windowEvents);

    volumeProperty->SetInterpolationTypeToLinear();
    volumeProperty->ShadeOff();
    volumeProp->SetMapper(volumeMapper);
    volumeProp->SetProperty(volumeProperty);
    volumeProp->VisibilityOff();
    renderer->AddVolume(volumeProp);
    for (auto& s : slices) {
      s->VisibilityOff();
      s->GetProperty()->SetInterpolationTypeToLinear();
      renderer->AddViewProp(s);
    }

    lines->AddInputConnection(lineX->GetOutputPort());
    lines->AddInputConnection(lineY->GetOutputPort());
    lines->AddInputConnection(lineZ->GetOutputPort());
    vtkNew<vtkPolyDataMapper> linesMapper;
    linesMapper->SetInputConnection(lines->GetOutputPort());
    linesActor->SetMapper(linesMapper);
    linesActor->GetProperty()->SetColor(1.0, 0.85, 0.1);
    linesActor->GetProperty()->SetLineWidth(2.0);
    linesActor->GetProperty()->LightingOff();
    linesActor->PickableOff();
    linesActor->VisibilityOff();
    ball->SetThetaResolution(24);
    ball->SetPhiResolution(16);
    vtkNew<vtkPolyDataMapper> ballMapper;
    ballMapper->SetInputConnection(ball->GetOutputPort());
    ballActor->SetMapper(ballMapper);
    ballActor->GetProperty()->SetColor(1.0, 0.85, 0.1);
    ballActor->PickableOff();
    ballActor->VisibilityOff();
    renderer->AddActor(linesActor);
    renderer->AddActor(ballActor);
  }

  void finalize() {
    if (finalized || !ready) return;
    finalized = true;
    q->makeCurrent();
    window->SetIsCurrent(true);
    window->SetReadyForRendering(true);
    window->Finalize();  // releases every OpenGL resource VTK made in this context
    window->SetReadyForRendering(false);
    q->doneCurrent();
  }

  const LabelStyle* styleFor(int set, std::int32_t label) const {
    auto it = styles.find(set);
    if (it == styles.end()) return nullptr;
    for (const LabelStyle& s : it->second)
      if (s.label == label) return &s;
    return nullptr;
  }

  void applyStyle(int set, Surface& s) {
    const LabelStyle* st = styleFor(set, s.label);
    const QColor c = st && st->color.isValid() ? st->color : paletteColor(s.label);
    double opacity = st ? st->opacity : (set == 0 ? 0.6 : 0.85);
    if (opacityOverride >= 0) opacity = opacityOverride;
    vtkProperty* p = s.actor->GetProperty();
    p->SetColor(c.redF(), c.greenF(), c.blueF());
    p->SetOpacity(std::clamp(opacity, 0.0, 1.0));
    p->SetSpecular(0.25);
    p->SetSpecularPower(20);
    p->SetDiffuse(0.85);
    p->SetAmbient(0.12);
    s.actor->SetVisibility(st ? st->visible : true);
  }

  // The extent of what is shown, for the crosshair lines and the camera.
  bool contentBounds(double b[6]) const {
    bool any = false;
    double out[6] = {VTK_DOUBLE_MAX, -VTK_DOUBLE_MAX, VTK_DOUBLE_MAX, -VTK_DOUBLE_MAX, VTK_DOUBLE_MAX, -VTK_DOUBLE_MAX};
    auto merge = [&](const double x[6]) {
      if (!validBounds(x)) return;
      any = true;
      for (int i = 0; i < 3; ++i) {
        out[2 * i] = std::min(out[2 * i], x[2 * i]);
        out[2 * i + 1] = std::max(out[2 * i + 1], x[2 * i + 1]);
      }
    };
    if (hasVolume) {
      // The volume's voxel-centre box in world space (its 8 corners).
      double vb[6] = {VTK_DOUBLE_MAX, -VTK_DOUBLE_MAX, VTK_DOUBLE_MAX, -VTK_DOUBLE_MAX, VTK_DOUBLE_MAX, -VTK_DOUBLE_MAX};
      for (const Vec3& c : geometry.cornersWorld())
        for (int i = 0; i < 3; ++i) {
          vb[2 * i] = std::min(vb[2 * i], c[i]);
          vb[2 * i + 1] = std::max(vb[2 * i + 1], c[i]);
        }
      merge(vb);
    }
    for (const auto& [set, surfaces] : sets)
      for (const Surface& s : surfaces) merge(s.polys->GetBounds());
    if (any) std::copy(out, out + 6, b);
    return any;
  }

  void updateCrosshair() {
    double b[6];
    const bool visible = crossSet && crossVisible && contentBounds(b);
    linesActor->SetVisibility(visible);
    ballActor->SetVisibility(visible);
    if (!visible) return;
    // Lines along the world axes through the point, spanning what is shown (and a margin).
    double extent = 0;
    for (int i = 0; i < 3; ++i) extent = std::max(extent, b[2 * i + 1] - b[2 * i]);
    const double m = 0.05 * extent;
    lineX->SetPoint1(std::min(b[0], cross[0]) - m, cross[1], cross[2]);
    lineX->SetPoint2(std::max(b[1], cross[0]) + m, cross[1], cross[2]);
    lineY->SetPoint1(cross[0], std::min(b[2], cross[1]) - m, cross[2]);
    lineY->SetPoint2(cross[0], std::max(b[3], cross[1]) + m, cross[2]);
    lineZ->SetPoint1(cross[0], cross[1], std::min(b[4], cross[2]) - m);
    lineZ->SetPoint2(cross[0], cross[1], std::max(b[5], cross[2]) + m);
    ball->SetCenter(cross[0], cross[1], cross[2]);
    ball->SetRadius(std::max(0.5, 0.012 * extent));
  }

  void updateSlices() {
    const bool show = hasVolume && mode == VolumeMode::Slices;
    for (auto& s : slices) s->SetVisibility(show);
    if (!hasVolume) return;
    // Crosshair position in the volume's index space (centre when unset or outside).
    std::array<int, 3> at{int(geometry.size[0] / 2), int(geometry.size[1] / 2), int(geometry.size[2] / 2)};
    if (crossSet) {
      const Vec3 idx = geometry.worldToIndex({cross[0], cross[1], cross[2]});
      for (int i = 0; i < 3; ++i) at[i] = int(std::clamp<long>(std::lround(idx[i]), 0L, long(geometry.size[i] - 1)));
    }
    const int nx = int(geometry.size[0]) - 1, ny = int(geometry.size[1]) - 1, nz = int(geometry.size[2]) - 1;
    slices[0]->SetDisplayExtent(at[0], at[0], 0, ny, 0, nz);
    slices[1]->SetDisplayExtent(0, nx, at[1], at[1], 0, nz);
    slices[2]->SetDisplayExtent(0, nx, 0, ny, at[2], at[2]);
  }

  void updateTransferFunctions() {
    const double lo = window_[0], hi = std::max(window_[1], window_[0] + 1e-6);
    vtkNew<vtkColorTransferFunction> color;
    color->AddRGBPoint(lo, 0.0, 0.0, 0.0);
    color->AddRGBPoint(lo + 0.5 * (hi - lo), 0.55, 0.55, 0.58);
    color->AddRGBPoint(hi, 1.0, 1.0, 1.0);
    vtkNew<vtkPiecewiseFunction> opacity;
    // Dark voxels (air, background) transparent, bright tissue a thin haze: surfaces inside stay visible.
    opacity->AddPoint(lo, 0.0);
    opacity->AddPoint(lo + 0.15 * (hi - lo), 0.0);
    opacity->AddPoint(hi, 0.08);
    volumeProperty->SetColor(color);
    volumeProperty->SetScalarOpacity(opacity);
    double meanSpacing = (geometry.spacing[0] + geometry.spacing[1] + geometry.spacing[2]) / 3.0;
    volumeProperty->SetScalarOpacityUnitDistance(std::max(0.5, 2.0 * meanSpacing));
    for (auto& s : slices) {
      s->GetProperty()->SetColorWindow(hi - lo);
      s->GetProperty()->SetColorLevel(0.5 * (hi + lo));
    }
  }

  void resetCamera() {
    double b[6];
    vtkCamera* cam = renderer->GetActiveCamera();
    if (!contentBounds(b)) {
      renderer->ResetCamera();
      return;
    }
    const double c[3] = {0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3]), 0.5 * (b[4] + b[5])};
    // Anatomical front view in LPS: the camera in front of the patient (anterior = -y) looking towards
    // posterior, superior (+z) up; the patient's left (+x) is then on the right of the screen.
    cam->SetFocalPoint(c);
    cam->SetPosition(c[0], c[1] - 1.0, c[2]);
    cam->SetViewUp(0, 0, 1);
    cam->SetViewAngle(30);
    renderer->ResetCamera(b);
    cam->Zoom(1.15);
    renderer->ResetCameraClippingRange(b);
    cameraNeedsReset = false;
  }

  void forwardMouse(QMouseEvent* e, unsigned long vtkEvent) {
    const qreal dpr = q->devicePixelRatioF();
    const auto mods = e->modifiers();
    interactor->SetEventInformationFlipY(int(e->position().x() * dpr), int(e->position().y() * dpr),
                                         (mods & Qt::ControlModifier) ? 1 : 0, (mods & Qt::ShiftModifier) ? 1 : 0);
    interactor->SetAltKey((mods & Qt::AltModifier) ? 1 : 0);
    interactor->InvokeEvent(vtkEvent, e);
  }
};

VolumeView3D::VolumeView3D(QWidget* parent) : QOpenGLWidget(parent), d(std::make_unique<Impl>(this)) {
  // VTK's OpenGL2 backend needs a 3.2 core profile context.
  QSurfaceFormat f = format();
  f.setRenderableType(QSurfaceFormat::OpenGL);
  f.setVersion(3, 2);
  f.setProfile(QSurfaceFormat::CoreProfile);
  f.setDepthBufferSize(24);
  f.setStencilBufferSize(8);
  f.setAlphaBufferSize(8);
  f.setSamples(0);
  setFormat(f);
  setFocusPolicy(Qt::StrongFocus);
  setMinimumSize(160, 120);
  setToolTip(tr("Drag: rotate; right drag or wheel: zoom; middle or Shift+drag: pan; R: reset view"));
}

VolumeView3D::~VolumeView3D() {
  d->finalize();
  // QOpenGLWidget's destructor destroys the context after `d` is gone: no call back into it.
  if (QOpenGLContext* ctx = context()) disconnect(ctx, nullptr, this, nullptr);
}

void VolumeView3D::initializeGL() {
  QOpenGLContext* ctx = context();
  const QSurfaceFormat f = ctx ? ctx->format() : QSurfaceFormat();
  if (!ctx || ctx->isOpenGLES() || f.majorVersion() * 10 + f.minorVersion() < 32) {
    d->ready = false;
    d->error = ctx ? tr("The 3-D view needs OpenGL 3.2; this display offers %1.%2%3")
                         .arg(f.majorVersion())
                         .arg(f.minorVersion())
                         .arg(ctx->isOpenGLES() ? " ES" : "")
                   : tr("The 3-D view could not create an OpenGL context on this display");
    Q_EMIT renderError(d->error);
    return;
  }
  connect(ctx, &QOpenGLContext::aboutToBeDestroyed, this, [this] {
        if (d) d->finalize();
      },
      Qt::DirectConnection);
  d->window->SetFrameBlitModeToNoBlit();
  d->window->SetMapped(1);
  d->window->SetIsDirect(1);
  d->window->SetSupportsOpenGL(1);
  d->window->SetForceMaximumHardwareLineWidth(1);
  d->window->SetReadyForRendering(true);  // VTK renders only in paintGL: the interactor's renders are off
  d->window->SetOwnContext(0);
  d->window->OpenGLInitContext();  // a new context: load OpenGL functions and capabilities
  const bool ok = d->window->GetState() != nullptr;
  if (!ok) {
    d->ready = false;
    d->error = tr("VTK could not initialise OpenGL in this context (OpenGL %1.%2); the 3-D view is unavailable")
                   .arg(f.majorVersion())
                   .arg(f.minorVersion());
    Q_EMIT renderError(d->error);
    return;
  }
  d->ready = true;
  d->error.clear();
  const qreal dpr = devicePixelRatioF();
  d->interactor->UpdateSize(int(width() * dpr), int(height() * dpr));
}

void VolumeView3D::resizeGL(int w, int h) {
  const qreal dpr = devicePixelRatioF();
  d->interactor->UpdateSize(int(w * dpr), int(h * dpr));
  d->window->SetSize(int(w * dpr), int(h * dpr));
}

void VolumeView3D::paintGL() {
  QOpenGLExtraFunctions* gl = context() ? context()->extraFunctions() : nullptr;
  if (!d->ready || !gl) {
    QPainter p(this);
    p.fillRect(rect(), QColor(28, 30, 36));
    p.setPen(QColor(220, 220, 220));
    p.drawText(rect().adjusted(12, 12, -12, -12), Qt::AlignCenter | Qt::TextWordWrap,
               d->error.isEmpty() ? tr("3-D view unavailable") : d->error);
    return;
  }
  if (d->cameraNeedsReset) d->resetCamera();
  const qreal dpr = devicePixelRatioF();
  const int w = int(width() * dpr), h = int(height() * dpr);
  if (d->window->GetSize()[0] != w || d->window->GetSize()[1] != h) {
    d->interactor->UpdateSize(w, h);
    d->window->SetSize(w, h);
  }
  d->window->SetIsCurrent(true);
  d->renderer->ResetCameraClippingRange();
  d->window->Render();
  // VTK drew into its own framebuffers; copy its display framebuffer into the widget's. The draw binding
  // is made with plain OpenGL (VTK's state cache does not know Qt's framebuffer).
  gl->glBindFramebuffer(GL_DRAW_FRAMEBUFFER, defaultFramebufferObject());
  const GLenum colour0 = GL_COLOR_ATTACHMENT0;
  gl->glDrawBuffers(1, &colour0);
  gl->glDisable(GL_SCISSOR_TEST);
  d->window->GetState()->vtkglDisable(GL_SCISSOR_TEST);
  const int* rendered = d->window->GetRenderFramebuffer()->GetLastSize();
  d->window->BlitDisplayFramebuffer(0, 0, 0, rendered[0], rendered[1], 0, 0, w, h, GL_COLOR_BUFFER_BIT, GL_NEAREST);
  // Opaque alpha: Qt composes the widget's framebuffer with what is behind it.
  gl->glBindFramebuffer(GL_FRAMEBUFFER, defaultFramebufferObject());
  gl->glViewport(0, 0, w, h);
  gl->glColorMask(GL_FALSE, GL_FALSE, GL_FALSE, GL_TRUE);
  gl->glClearColor(0.f, 0.f, 0.f, 1.f);
  gl->glClear(GL_COLOR_BUFFER_BIT);
  gl->glColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
}

void VolumeView3D::setVolume(const Volume& v) {
  d->hasVolume = !v.empty();
  d->geometry = v.sameGrid(VoxelType::Int32);
  d->geometry.ints.clear();
  d->geometry.ints.shrink_to_fit();
  if (!d->hasVolume) {
    d->image = nullptr;
    d->volumeProp->VisibilityOff();
    d->updateSlices();
    d->updateCrosshair();
    update();
    return;
  }
  d->image = vtk::toImage(v);
  d->window_ = vtk::percentileWindow(v);
  d->volumeMapper->SetInputData(d->image);
  d->volumeMapper->SetBlendModeToComposite();
  vtkSmartPointer<vtkMatrix4x4> m = vtk::worldMatrix(v);
  d->volumeProp->SetUserMatrix(m);
  d->volumeProp->SetVisibility(d->mode == VolumeMode::Rendering);
  for (auto& s : d->slices) {
    s->SetInputData(d->image);
    s->SetUserMatrix(m);
  }
  d->updateTransferFunctions();
  d->updateSlices();
  d->updateCrosshair();
  d->cameraNeedsReset = true;
  update();
}

void VolumeView3D::setLabelSurfaces(const Volume& labels) { setLabelSurfaces(0, labels); }

void VolumeView3D::setLabelSurfaces(int set, const Volume& labels) {
  clearLabelSurfaces(set);
  std::vector<Impl::Surface>& surfaces = d->sets[set];
  for (vtk::LabelSurface& ls : vtk::labelSurfaces(labels)) {
    Impl::Surface s;
    s.label = ls.label;
    s.polys = ls.polys;
    vtkNew<vtkPolyDataMapper> mapper;
    mapper->SetInputData(s.polys);
    mapper->ScalarVisibilityOff();
    s.actor = vtkSmartPointer<vtkActor>::New();
    s.actor->SetMapper(mapper);
    d->applyStyle(set, s);
    d->renderer->AddActor(s.actor);
    surfaces.push_back(std::move(s));
  }
  if (surfaces.empty()) d->sets.erase(set);
  if (!d->hasVolume) d->cameraNeedsReset = true;
  d->updateCrosshair();
  update();
}

void VolumeView3D::clearLabelSurfaces(int set) {
  for (auto it = d->sets.begin(); it != d->sets.end();) {
    if (set >= 0 && it->first != set) {
      ++it;
      continue;
    }
    for (Impl::Surface& s : it->second) d->renderer->RemoveActor(s.actor);
    it = d->sets.erase(it);
  }
  d->updateCrosshair();
  update();
}

void VolumeView3D::setLabelStyles(int set, const std::vector<LabelStyle>& styles) {
  d->styles[set] = styles;
  auto it = d->sets.find(set);
  if (it != d->sets.end())
    for (Impl::Surface& s : it->second) d->applyStyle(set, s);
  update();
}

void VolumeView3D::setLabelOpacity(double opacity) {
  d->opacityOverride = std::clamp(opacity, 0.0, 1.0);
  for (auto& [set, surfaces] : d->sets)
    for (Impl::Surface& s : surfaces) d->applyStyle(set, s);
  update();
}

void VolumeView3D::setCrosshair(std::array<double, 3> worldMm) {
  d->cross = worldMm;
  d->crossSet = true;
  d->updateCrosshair();
  d->updateSlices();
  update();
}

void VolumeView3D::setCrosshairVisible(bool visible) {
  d->crossVisible = visible;
  d->updateCrosshair();
  update();
}

void VolumeView3D::setVolumeMode(VolumeMode mode) {
  d->mode = mode;
  d->volumeProp->SetVisibility(d->hasVolume && mode == VolumeMode::Rendering);
  d->updateSlices();
  update();
}

VolumeView3D::VolumeMode VolumeView3D::volumeMode() const { return d->mode; }

void VolumeView3D::setWindow(double low, double high) {
  if (!(high > low)) std::swap(low, high);
  if (!(high > low)) high = low + 1;
  d->window_ = {low, high};
  d->updateTransferFunctions();
  update();
}

void VolumeView3D::resetCamera() {
  d->resetCamera();
  update();
}

void VolumeView3D::rotateView(double azimuthDeg, double elevationDeg) {
  if (d->cameraNeedsReset) d->resetCamera();
  vtkCamera* cam = d->renderer->GetActiveCamera();
  cam->Azimuth(azimuthDeg);
  cam->Elevation(elevationDeg);
  cam->OrthogonalizeViewUp();
  d->renderer->ResetCameraClippingRange();
  update();
}

QImage VolumeView3D::grabRendered() { return grabFramebuffer(); }

bool VolumeView3D::isReady() const { return d->ready; }

QString VolumeView3D::lastError() const {
  if (d->ready || !d->error.isEmpty()) return d->error;
  return tr("No OpenGL context yet: the 3-D view has not been shown, or this display cannot create one "
            "(e.g. the offscreen platform; use an X11/Wayland display or xvfb-run)");
}

int VolumeView3D::surfaceCount() const {
  int n = 0;
  for (const auto& [set, surfaces] : d->sets) n += int(surfaces.size());
  return n;
}

std::vector<std::int32_t> VolumeView3D::surfaceLabels(int set) const {
  std::vector<std::int32_t> out;
  auto it = d->sets.find(set);
  if (it != d->sets.end())
    for (const Impl::Surface& s : it->second) out.push_back(s.label);
  return out;
}

std::array<double, 6> VolumeView3D::surfaceBounds(std::int32_t label, int set) const {
  auto it = d->sets.find(set);
  if (it != d->sets.end())
    for (const Impl::Surface& s : it->second)
      if (s.label == label) return vtk::boundsOf(s.polys);
  return emptyBounds();
}

std::array<double, 6> VolumeView3D::sceneBounds() const {
  double b[6];
  if (!d->contentBounds(b)) return emptyBounds();
  return {b[0], b[1], b[2], b[3], b[4], b[5]};
}

void VolumeView3D::mousePressEvent(QMouseEvent* e) {
  switch (e->button()) {
    case Qt::LeftButton: d->forwardMouse(e, vtkCommand::LeftButtonPressEvent); break;
    case Qt::MiddleButton: d->forwardMouse(e, vtkCommand::MiddleButtonPressEvent); break;
    case Qt::RightButton: d->forwardMouse(e, vtkCommand::RightButtonPressEvent); break;
    default: QOpenGLWidget::mousePressEvent(e); return;
  }
  e->accept();
  update();
}

void VolumeView3D::mouseReleaseEvent(QMouseEvent* e) {
  switch (e->button()) {
    case Qt::LeftButton: d->forwardMouse(e, vtkCommand::LeftButtonReleaseEvent); break;
    case Qt::MiddleButton: d->forwardMouse(e, vtkCommand::MiddleButtonReleaseEvent); break;
    case Qt::RightButton: d->forwardMouse(e, vtkCommand::RightButtonReleaseEvent); break;
    default: QOpenGLWidget::mouseReleaseEvent(e); return;
  }
  e->accept();
  update();
}

void VolumeView3D::mouseMoveEvent(QMouseEvent* e) {
  d->forwardMouse(e, vtkCommand::MouseMoveEvent);
  e->accept();
  update();
}

void VolumeView3D::wheelEvent(QWheelEvent* e) {
  const qreal dpr = devicePixelRatioF();
  d->interactor->SetEventInformationFlipY(int(e->position().x() * dpr), int(e->position().y() * dpr),
                                          (e->modifiers() & Qt::ControlModifier) ? 1 : 0,
                                          (e->modifiers() & Qt::ShiftModifier) ? 1 : 0);
  const int delta = e->angleDelta().y();
  if (delta > 0) d->interactor->InvokeEvent(vtkCommand::MouseWheelForwardEvent, e);
  if (delta < 0) d->interactor->InvokeEvent(vtkCommand::MouseWheelBackwardEvent, e);
  e->accept();
  update();
}

void VolumeView3D::keyPressEvent(QKeyEvent* e) {
  if (e->key() == Qt::Key_R && e->modifiers() == Qt::NoModifier) {
    resetCamera();
    e->accept();
    return;
  }
  QOpenGLWidget::keyPressEvent(e);
}

}  // namespace loupe::widgets
