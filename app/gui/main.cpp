// loupe: the desktop workbench. Everything lives in the loupe_gui library so tests can drive it.
#include "Launch.h"

int main(int argc, char** argv) { return loupe::gui::launch(argc, argv); }
