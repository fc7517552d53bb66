//! The scopes the invoice API checks in bearer tokens, as a closed set: what the extractors
//! require and what `gateway token issue` accepts.

use std::fmt;

/// A scope an API endpoint requires. A token's scopes are strings; these are the ones the API
/// knows, so a token issued with any other opens nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiScope {
    /// `invoices:read`: reading invoices.
    ReadInvoices,
    /// `invoices:write`: creating invoices.
    WriteInvoices,
}

impl ApiScope {
    /// Every scope, in the order messages list them.
    pub const ALL: [Self; 2] = [Self::ReadInvoices, Self::WriteInvoices];

    /// The scope's text as tokens carry it, e.g. `invoices:read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadInvoices => "invoices:read",
            Self::WriteInvoices => "invoices:write",
        }
    }

    /// The scope a token's scope string names, if the API knows it.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == text)
    }

    /// The known scopes' texts joined by `, `, for messages.
    pub fn list() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

impl fmt::Display for ApiScope {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_parses_back_from_its_text_and_is_a_valid_token_scope() {
        for scope in ApiScope::ALL {
            assert_eq!(ApiScope::parse(scope.as_str()), Some(scope));
            assert!(auth::Scope::parse(scope.as_str()).is_ok(), "{scope}");
        }
        assert_eq!(ApiScope::parse("invoices:delete"), None);
        assert_eq!(ApiScope::list(), "invoices:read, invoices:write");
    }
}
