// The loss registry: every loss file registers itself; unknown names and parameters are clear errors.
#include <QtTest>

#include "train/losses/Loss.h"

using namespace loupe::train;

class TestLossRegistry : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void everyLossIsRegistered() {
    QStringList names;
    for (const auto& [name, summary] : registeredLosses()) {
      names << QString::fromStdString(name);
      QVERIFY(!summary.empty());
    }
    for (const char* n : {"ce", "cone", "decoupled_conditional", "focal_pixel", "infonce", "moco", "supcon", "triplet_cosine"})
      QVERIFY2(names.contains(n), n);
  }

  void unknownNameListsTheKnownOnes() {
    auto r = makeLoss("arcface");
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("supcon") != std::string::npos);
  }

  void unknownParameterIsRefused() {
    auto r = makeLoss("cone", {{"tsup", 0.1}});
    QVERIFY(!r.ok());
    QVERIFY(r.error().message.find("t_sup") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestLossRegistry)
#include "test_loss_registry.moc"
