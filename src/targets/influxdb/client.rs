//! InfluxDB's HTTP API (placeholder while the encoder is tested).
