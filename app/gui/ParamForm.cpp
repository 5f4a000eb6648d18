#include "ParamForm.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>

#include <algorithm>
#include <climits>
#include <cmath>

namespace loupe::gui {

namespace {

// A step of about a hundredth of the range, rounded to a power of ten (1..255 -> 1, 0..1 -> 0.01).
double stepFor(const sdk::ParamSpec& p) {
  if (!p.min || !p.max || *p.max <= *p.min) return 0.1;
  return std::pow(10.0, std::floor(std::log10(*p.max - *p.min)) - 2.0);
}

int decimalsFor(double step) { return std::clamp(static_cast<int>(std::ceil(-std::log10(step))), 1, 6); }

QString toolTipFor(const sdk::ParamSpec& p) {
  QString tip = QStringLiteral("<b>%1</b> (%2)").arg(QString::fromStdString(p.title).toHtmlEscaped(),
                                                    QString::fromStdString(p.id));
  if (!p.description.empty()) tip += QStringLiteral("<br>") + QString::fromStdString(p.description).toHtmlEscaped();
  tip += QStringLiteral("<br>Default: ") + QString::fromStdString(sdk::paramToString(p.defaultValue)).toHtmlEscaped();
  return tip;
}

}  // namespace

ParamForm::ParamForm(QWidget* parent) : QWidget(parent), layout_(new QFormLayout(this)), empty_(new QLabel(this)) {
  setObjectName(QStringLiteral("paramForm"));
  layout_->setContentsMargins(0, 0, 0, 0);
  layout_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  layout_->setLabelAlignment(Qt::AlignLeft | Qt::AlignVCenter);
  empty_->setText(tr("No parameters"));
  empty_->setEnabled(false);
  layout_->addRow(empty_);
}

void ParamForm::setTask(const sdk::TaskSpec* spec) {
  for (QWidget* editor : editors_) layout_->removeRow(editor);
  editors_.clear();
  hasTask_ = spec != nullptr;
  spec_ = spec ? *spec : sdk::TaskSpec{};
  for (const auto& param : spec_.params) {
    QWidget* editor = createEditor(param);
    editor->setObjectName(QStringLiteral("param_") + QString::fromStdString(param.id));
    editor->setToolTip(toolTipFor(param));
    auto* label = new QLabel(QString::fromStdString(param.title.empty() ? param.id : param.title), this);
    label->setToolTip(editor->toolTip());
    label->setBuddy(editor);
    layout_->addRow(label, editor);
    editors_.push_back(editor);
  }
  empty_->setText(hasTask_ ? tr("This task has no parameters") : tr("Select a task"));
  empty_->setVisible(editors_.empty());
  resetToDefaults();
}

QWidget* ParamForm::createEditor(const sdk::ParamSpec& p) {
  using Type = sdk::ParamSpec::Type;
  switch (p.type) {
    case Type::Int: {
      auto* box = new QSpinBox(this);
      const auto bound = [](std::optional<double> v, int fallback) {
        return v ? static_cast<int>(std::clamp(*v, double(INT_MIN), double(INT_MAX))) : fallback;
      };
      box->setRange(bound(p.min, INT_MIN), bound(p.max, INT_MAX));
      box->setAccelerated(true);
      return box;
    }
    case Type::Float: {
      auto* box = new QDoubleSpinBox(this);
      const double step = stepFor(p);
      box->setDecimals(decimalsFor(step));
      box->setSingleStep(step);
      box->setRange(p.min ? *p.min : -1e12, p.max ? *p.max : 1e12);
      box->setAccelerated(true);
      return box;
    }
    case Type::Bool: return new QCheckBox(this);
    case Type::Choice: {
      auto* combo = new QComboBox(this);
      for (const auto& c : p.choices) combo->addItem(QString::fromStdString(c));
      return combo;
    }
    case Type::String: return new QLineEdit(this);
  }
  return new QLineEdit(this);
}

void ParamForm::setEditorValue(QWidget* editor, const sdk::ParamSpec& p, const sdk::ParamValue& value) {
  if (auto* box = qobject_cast<QSpinBox*>(editor)) {
    if (const auto* i = std::get_if<std::int64_t>(&value)) box->setValue(static_cast<int>(*i));
    else if (const auto* d = std::get_if<double>(&value)) box->setValue(static_cast<int>(std::lround(*d)));
  } else if (auto* dbox = qobject_cast<QDoubleSpinBox*>(editor)) {
    if (const auto* d = std::get_if<double>(&value)) dbox->setValue(*d);
    else if (const auto* i = std::get_if<std::int64_t>(&value)) dbox->setValue(static_cast<double>(*i));
  } else if (auto* check = qobject_cast<QCheckBox*>(editor)) {
    if (const auto* b = std::get_if<bool>(&value)) check->setChecked(*b);
  } else if (auto* combo = qobject_cast<QComboBox*>(editor)) {
    combo->setCurrentText(QString::fromStdString(sdk::paramToString(value)));
  } else if (auto* line = qobject_cast<QLineEdit*>(editor)) {
    line->setText(QString::fromStdString(sdk::paramToString(value)));
  }
}

std::string ParamForm::editorText(const QWidget* editor, const sdk::ParamSpec&) const {
  if (const auto* box = qobject_cast<const QSpinBox*>(editor)) return std::to_string(box->value());
  if (const auto* dbox = qobject_cast<const QDoubleSpinBox*>(editor))
    return QString::number(dbox->value(), 'g', 17).toStdString();
  if (const auto* check = qobject_cast<const QCheckBox*>(editor)) return check->isChecked() ? "true" : "false";
  if (const auto* combo = qobject_cast<const QComboBox*>(editor)) return combo->currentText().toStdString();
  if (const auto* line = qobject_cast<const QLineEdit*>(editor)) return line->text().toStdString();
  return {};
}

void ParamForm::resetToDefaults() {
  for (std::size_t i = 0; i < editors_.size(); ++i)
    setEditorValue(editors_[i], spec_.params[i], spec_.params[i].defaultValue);
}

Result<void> ParamForm::apply(const Overrides& values) {
  if (!hasTask_) return Error{ErrorCode::InvalidArgument, "No task selected"};
  // resolve() parses and range-checks every text exactly as the CLI does.
  auto resolved = spec_.resolve(values);
  if (!resolved) return resolved.error();
  for (std::size_t i = 0; i < editors_.size(); ++i) {
    const auto& p = spec_.params[i];
    for (const auto& [name, text] : values)
      if (name == p.id) setEditorValue(editors_[i], p, resolved->at(p.id));
  }
  return {};
}

ParamForm::Overrides ParamForm::values() const {
  Overrides out;
  for (std::size_t i = 0; i < editors_.size(); ++i)
    out.emplace_back(spec_.params[i].id, editorText(editors_[i], spec_.params[i]));
  return out;
}

}  // namespace loupe::gui
