#include "ErrorBanner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QStyle>
#include <QToolButton>

namespace loupe::gui {

ErrorBanner::ErrorBanner(QWidget* parent)
    : QFrame(parent), icon_(new QLabel(this)), label_(new QLabel(this)), close_(new QToolButton(this)) {
  setObjectName(QStringLiteral("errorBanner"));
  setFrameShape(QFrame::NoFrame);
  setAutoFillBackground(true);
  label_->setObjectName(QStringLiteral("errorBannerText"));
  label_->setWordWrap(true);
  label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  close_->setObjectName(QStringLiteral("errorBannerClose"));
  close_->setAutoRaise(true);
  close_->setText(QStringLiteral("\u2715"));
  close_->setToolTip(tr("Dismiss"));
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(12, 8, 8, 8);
  layout->setSpacing(10);
  layout->addWidget(icon_, 0, Qt::AlignTop);
  layout->addWidget(label_, 1);
  layout->addWidget(close_, 0, Qt::AlignTop);
  connect(close_, &QToolButton::clicked, this, &ErrorBanner::dismiss);
  hide();
}

void ErrorBanner::showMessage(Kind kind, const QString& text) {
  kind_ = kind;
  const bool error = kind == Kind::Error;
  setStyleSheet(error ? QStringLiteral("QFrame#errorBanner { background: #fbe3e4; border-bottom: 1px solid #e0a3a6; }"
                                       "QLabel { color: #6b1116; }")
                      : QStringLiteral("QFrame#errorBanner { background: #fff4d6; border-bottom: 1px solid #e5c97a; }"
                                       "QLabel { color: #5c4400; }"));
  const int size = style()->pixelMetric(QStyle::PM_SmallIconSize);
  icon_->setPixmap(style()->standardIcon(error ? QStyle::SP_MessageBoxCritical : QStyle::SP_MessageBoxWarning).pixmap(size, size));
  label_->setText(text);
  show();
}

QString ErrorBanner::text() const { return label_->text(); }

void ErrorBanner::dismiss() {
  hide();
  label_->clear();
}

}  // namespace loupe::gui
