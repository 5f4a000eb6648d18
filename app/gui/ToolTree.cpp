#include "ToolTree.h"

#include <QTreeWidgetItem>

namespace loupe::gui {

QTreeWidgetItem* toolCategoryItem(QTreeWidgetItem* pluginItem, const std::string& category) {
  if (!pluginItem || category.empty()) return pluginItem;
  const QString name = QString::fromStdString(category);
  for (int i = 0; i < pluginItem->childCount(); ++i) {
    QTreeWidgetItem* child = pluginItem->child(i);
    if (child->data(0, kToolCategoryRole).toString() == name) return child;
  }
  auto* node = new QTreeWidgetItem(pluginItem, {name});
  node->setData(0, kToolCategoryRole, name);
  node->setFlags(pluginItem->flags() & Qt::ItemIsEnabled);  // greyed with a plugin that failed to load
  node->setToolTip(0, pluginItem->text(0) + QStringLiteral(" \u203a ") + name);
  return node;
}

}  // namespace loupe::gui
