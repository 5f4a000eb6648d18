#include "CandidatesPanel.h"

#include <QComboBox>
#include <QHeaderView>
#include <QLabel>
#include <QSignalBlocker>
#include <QTableWidget>
#include <QVBoxLayout>

namespace loupe::gui {

namespace {

QTableWidgetItem* readOnly(const QString& text, Qt::Alignment align = Qt::AlignRight | Qt::AlignVCenter) {
  auto* item = new QTableWidgetItem(text);
  item->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
  item->setTextAlignment(align);
  return item;
}

}  // namespace

CandidatesPanel::CandidatesPanel(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("candidatesPanel"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  caption_ = new QLabel(tr("No lesion candidates yet: run Detect Lesions."), this);
  caption_->setWordWrap(true);
  layout->addWidget(caption_);
  table_ = new QTableWidget(0, ColumnCount, this);
  table_->setObjectName(QStringLiteral("candidatesTable"));
  table_->setHorizontalHeaderLabels({tr("#"), tr("Likelihood"), tr("Volume (mL)"), tr("Max. diam. (mm)"),
                                     tr("Location (LPS mm)"), tr("Where"), tr("PI-RADS"), tr("Comment")});
  table_->horizontalHeaderItem(Location)->setToolTip(
      tr("Centroid in world coordinates: x to the patient's left, y to posterior, z to superior"));
  table_->horizontalHeaderItem(Where)->setToolTip(
      tr("Side relative to the centre of the T2W field of view; zone when a zone label map is shown"));
  table_->verticalHeader()->hide();
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed |
                          QAbstractItemView::AnyKeyPressed);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(Comment, QHeaderView::Stretch);
  layout->addWidget(table_, 1);
  connect(table_, &QTableWidget::cellClicked, this, [this](int row, int) { activate(row); });
  connect(table_, &QTableWidget::cellChanged, this, &CandidatesPanel::onCellChanged);
}

void CandidatesPanel::setCandidates(const std::vector<session::StudyCandidate>& candidates) {
  rows_ = candidates;
  filling_ = true;
  table_->setRowCount(0);
  table_->setRowCount(static_cast<int>(rows_.size()));
  for (int r = 0; r < count(); ++r) {
    const auto& c = rows_[static_cast<std::size_t>(r)];
    table_->setItem(r, Id, readOnly(QString::number(c.id)));
    table_->setItem(r, Likelihood, readOnly(QString::number(c.likelihood, 'f', 3)));
    table_->setItem(r, VolumeMl, readOnly(QString::number(c.volumeMl, 'f', 3)));
    table_->setItem(r, Diameter, readOnly(QString::number(c.maxDiameterMm, 'f', 1)));
    table_->setItem(r, Location, readOnly(QStringLiteral("%1, %2, %3")
                                              .arg(c.centroidLps[0], 0, 'f', 1)
                                              .arg(c.centroidLps[1], 0, 'f', 1)
                                              .arg(c.centroidLps[2], 0, 'f', 1)));
    table_->setItem(r, Where, readOnly(c.location, Qt::AlignLeft | Qt::AlignVCenter));
    auto* combo = new QComboBox(table_);
    combo->setObjectName(QStringLiteral("pirads%1").arg(r));
    combo->addItem(tr("–"), 0);
    for (int k = 1; k <= 5; ++k) combo->addItem(QString::number(k), k);
    combo->setToolTip(tr("PI-RADS v2.1 category set by the reader (– : not assessed)"));
    combo->setCurrentIndex(c.pirads ? *c.pirads : 0);
    connect(combo, qOverload<int>(&QComboBox::currentIndexChanged), this, [this, r](int index) {
      if (filling_ || r >= count()) return;
      rows_[static_cast<std::size_t>(r)].pirads = index > 0 ? std::optional<int>(index) : std::nullopt;
      Q_EMIT assessmentChanged();
    });
    table_->setCellWidget(r, Pirads, combo);
    auto* comment = new QTableWidgetItem(c.comment);
    comment->setToolTip(tr("Double-click or type to write a comment"));
    table_->setItem(r, Comment, comment);
  }
  caption_->setText(rows_.empty() ? tr("No lesion candidates.")
                                  : tr("%n lesion candidate(s), most likely first. Click one to go there.", nullptr,
                                       count()));
  filling_ = false;
}

std::vector<session::StudyCandidate> CandidatesPanel::candidates() const { return rows_; }

void CandidatesPanel::setPirads(int row, std::optional<int> category) {
  if (row < 0 || row >= count()) return;
  auto* combo = qobject_cast<QComboBox*>(table_->cellWidget(row, Pirads));
  if (combo) combo->setCurrentIndex(category && *category >= 1 && *category <= 5 ? *category : 0);
}

void CandidatesPanel::setComment(int row, const QString& comment) {
  if (row < 0 || row >= count()) return;
  table_->item(row, Comment)->setText(comment);  // cellChanged stores it
}

void CandidatesPanel::activate(int row) {
  if (row < 0 || row >= count()) return;
  table_->selectRow(row);
  Q_EMIT candidateActivated(row, rows_[static_cast<std::size_t>(row)].centroidLps);
}

void CandidatesPanel::onCellChanged(int row, int column) {
  if (filling_ || column != Comment || row < 0 || row >= count()) return;
  const QString text = table_->item(row, Comment)->text();
  if (rows_[static_cast<std::size_t>(row)].comment == text) return;
  rows_[static_cast<std::size_t>(row)].comment = text;
  Q_EMIT assessmentChanged();
}

}  // namespace loupe::gui
