//! Integration tests: the real router, over real PostgreSQL (a fresh database
//! per test), and real headless Chromium for the pages.

mod fixture;
mod helpers;

mod api;
mod audit_page;
mod auth;
mod authz;
mod browser;
mod cli;
mod conformance;
mod corpus;
mod dashboard;
mod dashboard_readable;
mod database;
mod demo;
mod durability;
mod edge;
mod error_pages;
mod errors;
mod health;
mod living;
mod marking_loop;
mod meetings;
mod migrations;
mod openapi;
mod papers;
mod per_ao;
mod qualification;
mod scripts;
mod setup;
mod transactions;
mod visibility;
