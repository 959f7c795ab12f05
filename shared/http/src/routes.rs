//! A router that remembers its routes, so the deployed API (template.yaml, the OpenAPI
//! document) can be checked against what the code actually serves.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{delete, get, patch, post, put};
use axum::Router;

use super::AppState;

pub struct Routes {
    router: Router<AppState>,
    table: Vec<(Method, &'static str)>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes {
            router: Router::new(),
            table: Vec::new(),
        }
    }
}

macro_rules! method {
    ($name:ident, $route:ident, $method:expr) => {
        pub fn $name<H, T>(mut self, path: &'static str, handler: H) -> Self
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            self.router = self.router.route(path, $route(handler));
            self.table.push(($method, path));
            self
        }
    };
}

impl Routes {
    pub fn new() -> Self {
        Routes::default()
    }

    method!(get, get, Method::GET);
    method!(post, post, Method::POST);
    method!(put, put, Method::PUT);
    method!(delete, delete, Method::DELETE);
    method!(patch, patch, Method::PATCH);

    /// Both sets of routes (the table of `other` after this one's).
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    /// (method, path) of every route, in the order they were added.
    pub fn table(&self) -> &[(Method, &'static str)] {
        &self.table
    }

    pub fn into_router(self, state: AppState) -> Router {
        self.router.with_state(state)
    }
}
