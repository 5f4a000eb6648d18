#pragma once
// libjpeg error handling shared by Loupe's libjpeg users: errors longjmp back to the caller with the
// library's message instead of exit(); warnings are silent.

#include <csetjmp>
#include <cstddef>
#include <cstdio>

#include <jpeglib.h>

namespace loupe::io::jpeg {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

inline void onError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (e.g. extraneous bytes) are not errors for Loupe.
inline void silence(j_common_ptr, int) {}

// Installs the handlers above into `err` and returns it for cinfo.err; call setjmp(err.jump) next.
inline jpeg_error_mgr* install(ErrorManager& err) {
  jpeg_error_mgr* pub = jpeg_std_error(&err.pub);
  err.pub.error_exit = onError;
  err.pub.emit_message = silence;
  return pub;
}

}  // namespace loupe::io::jpeg
