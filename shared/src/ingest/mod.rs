//! Scan ingestion: SARIF 2.1.0 and the native scan document, normalised into findings and a
//! bounded summary.
