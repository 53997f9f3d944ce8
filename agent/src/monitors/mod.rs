//! Monitors: what the server asks the agent to watch (sent in each check-in reply), read by
//! `sample` and turned into alert events by `evaluate`, with a minimum duration and hysteresis
//! so that a flapping value makes one alert.

pub mod evaluate;
pub mod sample;
mod services;

pub use evaluate::Evaluator;
pub use sample::Sampler;
