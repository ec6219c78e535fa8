//! standardise: runs exam-marking standardisation meetings in the browser.
//!
//! `main.rs` only parses the command line; everything else is here so the
//! tests drive exactly the router production serves.

pub mod api;
pub mod app;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod error;
pub mod health;
pub mod home;
pub mod live;
pub mod living;
pub mod markdown;
pub mod marking;
pub mod markscheme;
pub mod meetings;
pub mod papers;
pub mod qualification;
pub mod scripts;
pub mod serve;
pub mod state;
pub mod stats;
pub mod users;
pub mod web;
