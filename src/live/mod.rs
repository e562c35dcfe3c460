//! The live organization, read from AWS or from a snapshot file.
//!
//! This stage has not been built yet: it will hold `OrgReader` / `OrgWriter` over orgctl's own
//! types, the `aws` backend (the only module that imports `aws_sdk_*`) and the `snapshot` backend.
