#pragma once
// A non-modal message strip at the top of the central area: red for errors, amber for warnings about the
// input (truncated JPEG, CMYK converted without a profile). It stays until closed or replaced.

#include <QFrame>

class QLabel;
class QToolButton;

namespace loupe::gui {

class ErrorBanner : public QFrame {
  Q_OBJECT

 public:
  enum class Kind { Error, Warning };
  explicit ErrorBanner(QWidget* parent = nullptr);

  void showMessage(Kind kind, const QString& text);
  void showError(const QString& text) { showMessage(Kind::Error, text); }
  void showWarning(const QString& text) { showMessage(Kind::Warning, text); }
  QString text() const;
  Kind kind() const { return kind_; }

 public Q_SLOTS:
  void dismiss();

 private:
  QLabel* icon_;
  QLabel* label_;
  QToolButton* close_;
  Kind kind_ = Kind::Error;
};

}  // namespace loupe::gui
