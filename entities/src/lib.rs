//! sea-orm entities for shanhuo, one module per table. Nothing but entities lives here:
//! rules belong to `api::service`, and request/response shapes to `api::http`.

pub mod area;
