//! The tipster's page.
