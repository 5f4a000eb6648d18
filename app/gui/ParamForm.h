#pragma once
// Editors for a task's parameters, built from its manifest: QSpinBox for int (with its range),
// QDoubleSpinBox for float, QCheckBox for bool, QComboBox for choice, QLineEdit for string. Defaults come
// from the manifest. Each editor is named "param_<id>" and carries the parameter's description as tooltip.

#include <QWidget>

#include <string>
#include <utility>
#include <vector>

#include "core/Result.h"
#include "sdk/Manifest.h"

class QFormLayout;
class QLabel;

namespace loupe::gui {

class ParamForm : public QWidget {
  Q_OBJECT

 public:
  using Overrides = std::vector<std::pair<std::string, std::string>>;

  explicit ParamForm(QWidget* parent = nullptr);

  // Rebuilds the editors for `spec` (nullptr: no task), set to the manifest defaults.
  void setTask(const sdk::TaskSpec* spec);
  // Sets editors from "name", "value" texts (command line --param); fails on an unknown name or a bad value.
  Result<void> apply(const Overrides& values);
  void resetToDefaults();
  // Every parameter as "name", "value" text, ready for RunRequest::params (TaskSpec::resolve parses them).
  Overrides values() const;

 private:
  QWidget* createEditor(const sdk::ParamSpec& param);
  void setEditorValue(QWidget* editor, const sdk::ParamSpec& param, const sdk::ParamValue& value);
  std::string editorText(const QWidget* editor, const sdk::ParamSpec& param) const;

  QFormLayout* layout_;
  QLabel* empty_;
  sdk::TaskSpec spec_;
  bool hasTask_ = false;
  std::vector<QWidget*> editors_;  // parallel to spec_.params
};

}  // namespace loupe::gui
