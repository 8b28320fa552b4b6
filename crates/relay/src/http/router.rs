//! The one table of routes, which the router is built from and the test of
//! `openapi.json` reads; the API description itself; and the page's files
//! for every other path.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

use super::headers::security_headers;
use super::{AppState, agencies, case_items, inbox, mailboxes, metrics, tips, uploads};
use crate::error::ApiError;
use crate::store::Store;
use crate::{assets, first_screen};

/// Every API route: its path and the methods it answers. The router is built
/// from this table alone, and a test checks it against `openapi.json`.
pub fn routes<S: Store>() -> Vec<(&'static str, MethodRouter<AppState<S>>)> {
    vec![
        ("/api/v1/openapi.json", get(openapi)),
        ("/metrics", get(metrics::get_metrics)),
        ("/api/v1/challenges", post(agencies::post_challenge)),
        ("/api/v1/agencies", get(agencies::list_agencies)),
        ("/api/v1/agencies/{agency}", get(agencies::get_agency)),
        ("/api/v1/agencies/{agency}/tips", post(tips::post_tip)),
        (
            "/api/v1/agencies/{agency}/messages",
            post(tips::post_message),
        ),
        (
            "/api/v1/agencies/{agency}/uploads",
            post(uploads::post_upload),
        ),
        (
            "/api/v1/uploads/{upload}",
            get(uploads::get_upload)
                .patch(uploads::patch_upload)
                .delete(uploads::delete_upload),
        ),
        (
            "/api/v1/uploads/{upload}/commit",
            post(uploads::commit_upload),
        ),
        ("/api/v1/agencies/{agency}/inbox", get(inbox::get_inbox)),
        (
            "/api/v1/agencies/{agency}/case-items",
            post(case_items::post_case_item),
        ),
        (
            "/api/v1/agencies/{agency}/inbox/{item}",
            get(inbox::get_item).delete(inbox::delete_item),
        ),
        (
            "/api/v1/agencies/{agency}/mailboxes/{mailbox}",
            get(mailboxes::get_mailbox).post(mailboxes::post_reply),
        ),
        (
            "/api/v1/agencies/{agency}/mailboxes/{mailbox}/{reply}",
            get(mailboxes::get_reply).delete(mailboxes::delete_reply),
        ),
    ]
}

/// The whole application: the API of [`routes`], the page for every other
/// path, and the security headers on every answer.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    routes()
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers::<S>,
        ))
        .with_state(state)
}

/// `GET /api/v1/openapi.json`: the API description.
async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../openapi.json"),
    )
        .into_response()
}

/// Any other path: 404 under `/api`, else the page's files (GET and HEAD).
async fn fallback<S: Store>(State(st): State<AppState<S>>, request: Request) -> Response {
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::no_such_route().into_response();
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return ApiError::method_not_allowed().into_response();
    }
    let agency = assets::agency_page(path).and_then(|id| st.relay.agencies.get(id));
    let answer = match agency {
        Some(agency) => {
            first_screen::serve(
                &st.pages,
                &st.relay.dist,
                &agency.profile,
                path,
                request.headers(),
            )
            .await
        }
        None => assets::serve(&st.relay.dist, path, request.headers()).await,
    };
    match answer {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}
