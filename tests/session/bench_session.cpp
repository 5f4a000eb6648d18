// bench_session [megapixels=100] [dir=/tmp]: time to save (encode, SHA-256, write + fsync + rename) and to
// load (read, verify SHA-256, decode) a session whose heatmap has that many float32 samples; and a second
// save of the unchanged session (nothing rewritten). Peer: tests/session/session_peer.py does the same
// bytes with Python's hashlib and os.fsync.
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>

#include <cstdio>

#include "session/SessionFile.h"

using namespace loupe;

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  const double mp = argc > 1 ? std::atof(argv[1]) : 100.0;
  const QString dir = argc > 2 ? QString::fromLocal8Bit(argv[2]) : QDir::tempPath();
  const int w = 10000, h = static_cast<int>(mp * 1e6 / w);
  session::Session s;
  auto set = std::make_shared<session::LayerSet>();
  Heatmap m;
  m.width = w, m.height = h;
  m.values.resize(static_cast<std::size_t>(w) * h);
  for (std::size_t i = 0; i < m.values.size(); ++i) m.values[i] = static_cast<float>((i * 2654435761u) % 1000) * 0.01f;
  set->layers.push_back({"ela", "Error level", std::move(m)});
  s.layers = set;
  const QString path = QDir(dir).filePath(QStringLiteral("bench.loupe"));
  QElapsedTimer t;
  t.start();
  if (auto r = session::saveSession(s, path); !r) return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 1;
  const double save = t.elapsed() / 1000.0;
  t.restart();
  if (auto r = session::saveSession(s, path); !r) return 1;
  const double resave = t.elapsed() / 1000.0;
  t.restart();
  auto loaded = session::loadSession(path);
  if (!loaded) return std::fprintf(stderr, "%s\n", loaded.error().message.c_str()), 1;
  const double load = t.elapsed() / 1000.0;
  std::printf("%d x %d float32 (%.0f MB): save %.2f s, save again unchanged %.3f s, load %.2f s\n", w, h,
              w * double(h) * 4 / 1e6, save, resave, load);
  QFile::remove(path);
  QDir(session::sidecarDir(path)).removeRecursively();
  return 0;
}
