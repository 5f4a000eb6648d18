#pragma once
// A light header (no LibTorch) for code that only needs Loupe's forgery extractor packages to open through
// runtime::loadModel / runtime::ImageModel: see ForgeryExtractor.h.

namespace loupe::train {

// Registers the "native" model format's loader (architecture loupe.forgery_fcn) with the runtime; idempotent.
void registerForgeryExtractorLoader();

}  // namespace loupe::train
