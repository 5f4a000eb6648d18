#pragma once
// Session files. `case.loupe` is JSON (format "loupe-session", schema kSchemaVersion); the layer data and
// bookmark snapshots live beside it in the sidecar folder `case.loupe.d/`, one file per blob named by its
// SHA-256 (layer-<sha>.f32|u8|i32, snapshot-<sha>.png), so restoring is exact (no re-run) and fast (raw
// samples, read once), and saving again only writes what changed.
//
// Saving is atomic: every file is written to a temporary file, flushed to disk (fsync) and renamed over
// the target (QSaveFile); the JSON goes last, so until its rename the old JSON with the old blobs (never
// overwritten: new content gets new names) is what a reader or a crash sees. Blobs no longer referenced
// are removed only after the new JSON is in place. MRI studies keep their result volumes there as raw
// voxels (volume-<sha>.f32|i32) with the geometry in the JSON.

#include <QString>

#include <functional>

#include "Session.h"
#include "core/Result.h"

namespace loupe::session {

QString sidecarDir(const QString& sessionPath);  // "<path>.d"

// Called between the steps of a save ("data": blobs written, "json": about to commit the JSON); returning
// false stops the save there as if the process had died (tests of atomicity).
using SaveInterruption = std::function<bool(const char* step)>;

Result<void> saveSession(const Session& session, const QString& path, const SaveInterruption& interrupt = {});
// Reads the JSON and every blob (each checked against its SHA-256). Errors name the file and the problem.
Result<Session> loadSession(const QString& path);

// Whether the session's input is still the file that was analysed.
struct InputCheck {
  enum class State { Ok, Moved, Missing, Changed };
  State state = State::Missing;
  QString path;    // where it is (Ok, Moved: found beside the session at its relative path; Changed: as opened)
  QString sha256;  // what it hashes to now (empty when missing)
  // For people: "photo.jpg has changed since the session was saved (SHA-256 ... instead of ...)".
  QString message;
};
InputCheck checkInput(const InputFile& input, const QString& sessionPath);
// The file at `path` described as a session input (absolute path, path relative to the session, hash, size).
Result<InputFile> describeInput(const QString& path, const QString& sessionPath);
// A study sequence (volume file or DICOM folder) described for the session: absolute path, SHA-256, size.
Result<StudySequence> describeStudySequence(const QString& role, const QString& path);

}  // namespace loupe::session
