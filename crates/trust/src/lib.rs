//! Fleet trust for toolcap: evidence consensus, signed vector clocks, staleness, differential privacy and range-proved commitments.
#![cfg_attr(not(test), warn(missing_docs))]
