//! How each service's refusals read over HTTP: a stable code and status, with the service's
//! reason in the details where it gave one. The API's envelopes and the pages' refusal notes
//! both come from here.

use std::time::Duration;

use sea_orm::ActiveEnum;
use serde_json::json;

use super::{ApiError, ErrorCode};
use crate::{
    domain::region::RegionError,
    infra::{
        blobs::BlobError, imaging::PhotoRejection, passwords::PasswordError, wechat::WeChatError,
        wechat_web::WebError,
    },
    service::{
        areas::{AreaError, MAX_LOOKUP_CODES},
        audit::{AuditError, checkpoints::CheckpointError},
        auth::AuthError,
        exit::{ExitError, village_sheet::VillageSheetError},
        households::HouseholdError,
        market::MarketError,
        monitoring::{MonitoringError, help::HelpError},
        otp::OtpError,
        rate_limit::LimitError,
        reasons,
        trace::TraceError,
        users::UserError,
    },
};

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        let code = match err {
            AuthError::InvalidCredentials => ErrorCode::AuthInvalidCredentials,
            AuthError::AccountDisabled => ErrorCode::AuthAccountDisabled,
            AuthError::RefreshInvalid => ErrorCode::AuthRefreshInvalid,
            AuthError::RefreshExpired => ErrorCode::AuthRefreshExpired,
            AuthError::RefreshReused => ErrorCode::AuthRefreshReused,
            AuthError::TokenInvalid(_) => ErrorCode::AuthTokenInvalid,
            AuthError::TokenExpired => ErrorCode::AuthTokenExpired,
            AuthError::TokenRevoked => ErrorCode::AuthTokenRevoked,
            AuthError::InvalidPhone => ErrorCode::UserInvalidPhone,
            AuthError::Code(OtpError::Invalid) => ErrorCode::AuthCodeInvalid,
            AuthError::Code(OtpError::TooManyTries) => ErrorCode::AuthCodeTooManyTries,
            AuthError::Code(OtpError::TooSoon { retry_after }) => {
                return ApiError::new(ErrorCode::AuthCodeTooSoon).with_retry_after(retry_after);
            }
            AuthError::Code(OtpError::Limited(e)) | AuthError::Limited(e) => return e.into(),
            AuthError::Code(OtpError::Sms(e)) => {
                tracing::error!(error = %e, "a sign-in code could not be sent");
                return ApiError::new(ErrorCode::ServerSmsUnavailable)
                    .with_retry_after(Duration::from_secs(30));
            }
            AuthError::Code(OtpError::Database(e)) => return ApiError::internal(e),
            AuthError::WeChatDisabled => ErrorCode::AuthWechatDisabled,
            AuthError::WeChat(WeChatError::InvalidCode(_)) => ErrorCode::AuthWechatCodeInvalid,
            AuthError::WeChat(WeChatError::Blocked) => ErrorCode::AuthWechatBlocked,
            AuthError::WeChat(e) => {
                tracing::error!(error = %e, "WeChat code2session failed");
                return ApiError::new(ErrorCode::ServerWechatUnavailable)
                    .with_retry_after(Duration::from_secs(10));
            }
            AuthError::WeChatWeb(WebError::InvalidCode(_)) => ErrorCode::AuthWechatCodeInvalid,
            AuthError::WeChatWeb(WebError::NotAuthorised) => ErrorCode::AuthWechatNotAuthorised,
            AuthError::WeChatWeb(e) => {
                tracing::error!(error = %e, "WeChat's web authorisation failed");
                return ApiError::new(ErrorCode::ServerWechatUnavailable)
                    .with_retry_after(Duration::from_secs(10));
            }
            AuthError::WeChatSnapshot => ErrorCode::AuthWechatSnapshot,
            AuthError::Account(e) => return e.into(),
            AuthError::Database(e) => return ApiError::internal(e),
        };
        ApiError::new(code)
    }
}

impl From<AreaError> for ApiError {
    fn from(err: AreaError) -> Self {
        match err {
            AreaError::NotFound(code) => ApiError::new(ErrorCode::AreaNotFound)
                .with_details(json!({ "code": code.as_str() })),
            AreaError::TooManyCodes => ApiError::new(ErrorCode::RequestInvalidBody)
                .with_details(json!({ "reason": format!("at most {MAX_LOOKUP_CODES} codes") })),
            AreaError::Invalid { code, reason } => ApiError::new(ErrorCode::RequestInvalidBody)
                .with_details(json!({ "code": code.as_str(), "reason": reason })),
            AreaError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<UserError> for ApiError {
    fn from(err: UserError) -> Self {
        match err {
            UserError::NotFound => ErrorCode::UserNotFound.into(),
            UserError::PhoneTaken => ErrorCode::UserPhoneTaken.into(),
            UserError::RoleNeedsArea { level, .. } => {
                ApiError::new(ErrorCode::UserRoleAreaMismatch)
                    .with_details(json!({ "required_level": level }))
            }
            UserError::NotAnOfficialRole => ApiError::new(ErrorCode::UserRoleAreaMismatch)
                .with_details(json!({ "reason": err.to_string() })),
            UserError::UnknownArea => ErrorCode::AreaNotFound.into(),
            UserError::Forbidden => ErrorCode::AuthForbidden.into(),
            UserError::PhoneAlreadyBound => ErrorCode::UserPhoneAlreadyBound.into(),
            UserError::MergeRefused => ErrorCode::UserMergeRefused.into(),
            UserError::WeChatTaken => ErrorCode::UserWechatTaken.into(),
            UserError::KeyMalformed(reason) => {
                ApiError::new(ErrorCode::RequestInvalid).with_reason(reason)
            }
            UserError::KeyReused => ErrorCode::RequestIdempotencyKeyReused.into(),
            UserError::Password(PasswordError::Length) => ErrorCode::UserInvalidPassword.into(),
            UserError::Password(e) => ApiError::internal(e),
            UserError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<CheckpointError> for ApiError {
    fn from(err: CheckpointError) -> Self {
        match err {
            CheckpointError::Forbidden => ErrorCode::AuthForbidden.into(),
            CheckpointError::HeadBroken(_) => ErrorCode::AuditChainBroken.into(),
            CheckpointError::KeyMalformed(reason) => {
                ApiError::new(ErrorCode::RequestInvalid).with_reason(reason)
            }
            CheckpointError::KeyReused => ErrorCode::RequestIdempotencyKeyReused.into(),
            CheckpointError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<AuditError> for ApiError {
    fn from(err: AuditError) -> Self {
        match err {
            AuditError::Forbidden => ErrorCode::AuthForbidden.into(),
            AuditError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<RegionError> for ApiError {
    fn from(err: RegionError) -> Self {
        ApiError::new(ErrorCode::OrderInvalidDestination)
            .with_details(json!({ "reason": err.to_string() }))
    }
}

impl From<TraceError> for ApiError {
    fn from(err: TraceError) -> Self {
        match err {
            TraceError::NotFound => ErrorCode::TraceNotFound.into(),
            TraceError::Forbidden => ErrorCode::AuthForbidden.into(),
            TraceError::Invalid(reason) => {
                ApiError::new(ErrorCode::TraceInvalid).with_reason(reason)
            }
            TraceError::PlotOutsideVillage => ErrorCode::TracePlotOutsideVillage.into(),
            TraceError::KeyReused => ErrorCode::RequestIdempotencyKeyReused.into(),
            TraceError::Photo(rejection) => rejection.into(),
            TraceError::NoCodeInPhoto => ErrorCode::TraceNoCodeInPhoto.into(),
            TraceError::Storage(e @ BlobError::NoSpace(_)) => {
                ApiError::new(ErrorCode::ServerStorageFull).caused_by(e)
            }
            TraceError::Storage(e) => ApiError::internal(e),
            TraceError::Database(e) => ApiError::internal(e),
            TraceError::Journal(e) => ApiError::internal(e),
            TraceError::Drawing(reason) => ApiError::internal(std::io::Error::other(reason)),
        }
    }
}

impl From<ExitError> for ApiError {
    fn from(err: ExitError) -> Self {
        match err {
            ExitError::NotFound => ErrorCode::ExitNotFound.into(),
            ExitError::Forbidden => ErrorCode::AuthForbidden.into(),
            ExitError::Refused(reason) => {
                ApiError::new(ErrorCode::AuthForbidden).with_reason(reason)
            }
            ExitError::Invalid(reason) => ApiError::new(ErrorCode::ExitInvalid).with_reason(reason),
            ExitError::NotQualified(failing) => ApiError::new(ErrorCode::ExitNotQualified)
                .with_details(json!({ "failing": failing })),
            ExitError::NotAllowedNow {
                state,
                action,
                next,
                notice_ends_at,
            } => ApiError::new(ErrorCode::ExitStepNotAllowed).with_details(json!({
                "state": state.to_value(),
                "action": action.name(),
                "allowed": next.iter().map(|a| a.name()).collect::<Vec<_>>(),
                "notice_ends_at": notice_ends_at,
            })),
            ExitError::CaseOpen(id) => {
                ApiError::new(ErrorCode::ExitCaseOpen).with_details(json!({ "case_id": id }))
            }
            ExitError::KeyReused => ErrorCode::RequestIdempotencyKeyReused.into(),
            ExitError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<MonitoringError> for ApiError {
    fn from(err: MonitoringError) -> Self {
        match err {
            MonitoringError::NotFound => ErrorCode::MonitoringNotFound.into(),
            MonitoringError::Forbidden => ErrorCode::AuthForbidden.into(),
            MonitoringError::Refused(reason) => {
                ApiError::new(ErrorCode::AuthForbidden).with_reason(reason)
            }
            MonitoringError::Invalid(reason) => {
                ApiError::new(ErrorCode::MonitoringInvalid).with_reason(reason)
            }
            MonitoringError::Open(id) => {
                ApiError::new(ErrorCode::MonitoringOpen).with_details(json!({ "monitored_id": id }))
            }
            MonitoringError::NotQualified(failing) => {
                ApiError::new(ErrorCode::MonitoringNotQualified)
                    .with_details(json!({ "failing": failing }))
            }
            MonitoringError::NotAllowedNow {
                procedure,
                state,
                action,
                next,
                notice_ends_at,
            } => ApiError::new(ErrorCode::MonitoringStepNotAllowed).with_details(json!({
                "procedure": procedure.to_value(),
                "state": state.to_value(),
                "action": action.name(),
                "allowed": next.iter().map(|a| a.name()).collect::<Vec<_>>(),
                "notice_ends_at": notice_ends_at,
            })),
            MonitoringError::KeyReused => ErrorCode::RequestIdempotencyKeyReused.into(),
            MonitoringError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<VillageSheetError> for ApiError {
    fn from(err: VillageSheetError) -> Self {
        match err {
            VillageSheetError::Forbidden => ErrorCode::AuthForbidden.into(),
            VillageSheetError::NotFound => ErrorCode::ExitNotFound.into(),
            VillageSheetError::Sheet(e) => ApiError::new(ErrorCode::VillageImportUnreadable)
                .with_details(json!({ "reason": e.to_string() })),
            VillageSheetError::Rejected(report) => ApiError::new(ErrorCode::VillageImportRejected)
                .with_details(json!({
                    "problem_count": report.problem_count,
                    "villages": report.villages,
                    "problems": report.problems.iter().map(|p| json!({
                        "row": p.row,
                        "column": p.column,
                        "code": p.code.name(),
                        "message": p.message,
                    })).collect::<Vec<_>>(),
                })),
            VillageSheetError::Invalid(reason) => {
                ApiError::new(ErrorCode::ExitInvalid).with_reason(reason)
            }
            VillageSheetError::KeyReused => ErrorCode::RequestIdempotencyKeyReused.into(),
            VillageSheetError::Write(e) => ApiError::internal(e),
            VillageSheetError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<HouseholdError> for ApiError {
    fn from(err: HouseholdError) -> Self {
        match err {
            HouseholdError::NotFound => ErrorCode::HouseholdNotFound.into(),
            HouseholdError::UserNotFound => ErrorCode::UserNotFound.into(),
            HouseholdError::Forbidden => ErrorCode::AuthForbidden.into(),
            HouseholdError::NumberTaken(number) => ApiError::new(ErrorCode::HouseholdNumberTaken)
                .with_details(json!({ "household_number": number })),
            HouseholdError::UnknownVillage => ErrorCode::HouseholdUnknownVillage.into(),
            HouseholdError::InUse(records) => {
                ApiError::new(ErrorCode::HouseholdInUse).with_details(json!({ "records": records }))
            }
            HouseholdError::Invalid(reason) => {
                ApiError::new(ErrorCode::HouseholdInvalid).with_reason(reason)
            }
            HouseholdError::DuplicatePerson {
                member,
                household_number,
                id_masked,
            } => ApiError::new(ErrorCode::HouseholdDuplicatePerson).with_details(json!({
                "member": member,
                "household_number": household_number,
                "id_number": id_masked,
            })),
            HouseholdError::RegisteredElsewhere { member } => {
                ApiError::new(ErrorCode::HouseholdRegisteredElsewhere)
                    .with_details(json!({ "member": member }))
            }
            HouseholdError::KeyReused => ErrorCode::RequestIdempotencyKeyReused.into(),
            HouseholdError::Pii(e) => ApiError::internal(e),
            HouseholdError::Sheet(e) => ApiError::internal(e),
            HouseholdError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<PhotoRejection> for ApiError {
    fn from(rejection: PhotoRejection) -> Self {
        let code = match rejection {
            PhotoRejection::NotAnImage => ErrorCode::PhotoNotAnImage,
            PhotoRejection::TypeMismatch { .. } => ErrorCode::PhotoTypeMismatch,
            PhotoRejection::TooManyPixels { .. } => ErrorCode::PhotoTooManyPixels,
            PhotoRejection::MetadataTooLarge { .. } => ErrorCode::PhotoMetadataTooLarge,
            PhotoRejection::Corrupt(_) => ErrorCode::PhotoCorrupt,
        };
        ApiError::new(code).with_details(json!({ "reason": rejection.to_string() }))
    }
}

impl From<MarketError> for ApiError {
    fn from(err: MarketError) -> Self {
        match err {
            MarketError::NotFound => ErrorCode::MarketNotFound.into(),
            MarketError::Forbidden => ErrorCode::AuthForbidden.into(),
            MarketError::Invalid(reason) => {
                ApiError::new(ErrorCode::MarketInvalid).with_reason(reason)
            }
            MarketError::CategoryTaken(code) => {
                ApiError::new(ErrorCode::MarketCategoryTaken).with_details(json!({ "code": code }))
            }
            MarketError::Photo(rejection) => rejection.into(),
            MarketError::OutOfStock { available, unit } => {
                let (unit_zh, unit_en) = reasons::unit_names(unit);
                ApiError::new(ErrorCode::OrderOutOfStock)
                    .with_details(json!({ "available": available }))
                    .with_reason(reasons::out_of_stock(available, unit_zh, unit_en))
            }
            MarketError::IdempotencyKeyReused => ErrorCode::OrderIdempotencyKeyReused.into(),
            MarketError::KeyReused => ErrorCode::RequestIdempotencyKeyReused.into(),
            MarketError::BothSides => ErrorCode::OrderBothSides.into(),
            MarketError::StepNotAllowed { allowed } => {
                ApiError::new(ErrorCode::OrderStepNotAllowed).with_details(json!({
                    "allowed": allowed.iter().map(|a| a.name()).collect::<Vec<_>>(),
                }))
            }
            MarketError::Storage(e @ BlobError::NoSpace(_)) => {
                ApiError::new(ErrorCode::ServerStorageFull).caused_by(e)
            }
            MarketError::Storage(e) => ApiError::internal(e),
            MarketError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<LimitError> for ApiError {
    fn from(err: LimitError) -> Self {
        match err {
            LimitError::Exceeded { retry_after } => {
                ApiError::new(ErrorCode::RequestRateLimited).with_retry_after(retry_after)
            }
            LimitError::Cache(e) => ApiError::internal(e),
            LimitError::Database(e) => ApiError::internal(e),
        }
    }
}

impl From<HelpError> for ApiError {
    fn from(err: HelpError) -> Self {
        match err {
            HelpError::NotFound => ErrorCode::HouseholdNotFound.into(),
            HelpError::Forbidden => ErrorCode::AuthForbidden.into(),
            HelpError::Invalid(reason) => ApiError::new(ErrorCode::HelpInvalid).with_reason(reason),
            HelpError::KeyReused => ErrorCode::RequestIdempotencyKeyReused.into(),
            HelpError::Photo(rejection) => rejection.into(),
            HelpError::Storage(e @ BlobError::NoSpace(_)) => {
                ApiError::new(ErrorCode::ServerStorageFull).caused_by(e)
            }
            HelpError::Storage(e) => ApiError::internal(e),
            HelpError::Database(e) => ApiError::internal(e),
        }
    }
}
