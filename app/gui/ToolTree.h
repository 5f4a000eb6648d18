#pragma once
// The task tree grouped like Sherloq's tool tree: plugin > category > task. A task's manifest may name a
// `category` (e.g. "Compression"); tasks of one plugin with the same category share one node under the
// plugin, in the order the manifest first names each category. Tasks without a category sit directly
// under their plugin.

#include <QString>

#include <string>

class QTreeWidgetItem;

namespace loupe::gui {

// Marks category nodes (data role of column 0), so tests and the window can tell them from tasks.
constexpr int kToolCategoryRole = 0x0100 + 2;  // Qt::UserRole + 2

// The node a task with `category` goes under inside `pluginItem`: `pluginItem` itself when `category` is
// empty, else its child category node (created, after the existing children, when it is not there yet).
QTreeWidgetItem* toolCategoryItem(QTreeWidgetItem* pluginItem, const std::string& category);

}  // namespace loupe::gui
