//! The dashboard (`/console/dashboard`, where the console opens): the fleet online and offline,
//! each instance's devices by binding state, open alerts, help requests and tickets of the last
//! 30 days (a chart drawn here, as SVG: no script, no outside library), and the billed
//! quantities. Every number links to the list behind it.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use super::{Frame, Page, Viewer, render};
use crate::ops::billing::BillingLine;
use crate::ops::dashboard::{DAYS, InstanceBindings};
use crate::state::Shared;

/// A device that missed this many check-ins in a row is offline.
const MISSED_CHECKINS: i64 = 3;
/// The chart's drawing area (SVG units).
const CHART_W: i64 = 600;
const CHART_H: i64 = 120;

pub fn router() -> Router<Shared> {
    Router::new().route("/dashboard", get(page))
}

/// One bar of the tickets chart.
struct Bar {
    x: i64,
    y: i64,
    width: i64,
    height: i64,
    label: String,
}

/// One segment of an instance's binding bar: state, devices, share in percent (for the width).
struct Segment {
    state: &'static str,
    devices: i64,
    percent: i64,
    offset: i64,
}

struct InstanceRow {
    name: String,
    total: i64,
    segments: Vec<Segment>,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    frame: Frame,
    devices: i64,
    online: i64,
    offline: i64,
    open_alerts: i64,
    help_requests: i64,
    tickets: i64,
    days: i64,
    bars: Vec<Bar>,
    first_day: String,
    last_day: String,
    most: i64,
    instances: Vec<InstanceRow>,
    billing: Vec<BillingLine>,
    chart_w: i64,
    chart_h: i64,
}

fn instance_row(i: InstanceBindings) -> InstanceRow {
    let mut offset = 0;
    let segments = i
        .states
        .into_iter()
        .map(|(state, devices)| {
            let percent = (devices * 100).checked_div(i.total).unwrap_or(0);
            let s = Segment {
                state,
                devices,
                percent,
                offset,
            };
            offset += percent;
            s
        })
        .collect();
    InstanceRow {
        name: i.name,
        total: i.total,
        segments,
    }
}

/// The tickets chart: one bar a day, scaled to the busiest day.
fn bars(per_day: &[(String, i64)]) -> (Vec<Bar>, i64) {
    let most = per_day.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let n = i64::try_from(per_day.len()).unwrap_or(1).max(1);
    let slot = CHART_W / n;
    let bars = per_day
        .iter()
        .enumerate()
        .map(|(k, (day, count))| {
            let height = count * CHART_H / most;
            Bar {
                x: i64::try_from(k).unwrap_or(0) * slot + 1,
                y: CHART_H - height,
                width: (slot - 2).max(1),
                height,
                label: format!("{day}: {count}"),
            }
        })
        .collect();
    (bars, most)
}

async fn page(State(state): State<Shared>, viewer: Viewer) -> Page {
    let interval = i64::from(state.agents.checkin_interval_secs.max(1)) * 1000;
    let view = state
        .ops(&viewer.actor)
        .dashboard(interval * MISSED_CHECKINS)
        .await?;
    let (bars, most) = bars(&view.tickets_per_day);
    render(
        &DashboardPage {
            frame: Frame::new(&viewer, "dashboard", "Dashboard"),
            devices: view.devices,
            online: view.online,
            offline: view.devices - view.online,
            open_alerts: view.open_alerts,
            help_requests: view.help_requests,
            tickets: view.tickets_per_day.iter().map(|(_, n)| n).sum(),
            days: DAYS,
            first_day: view
                .tickets_per_day
                .first()
                .map(|d| d.0.clone())
                .unwrap_or_default(),
            last_day: view
                .tickets_per_day
                .last()
                .map(|d| d.0.clone())
                .unwrap_or_default(),
            bars,
            most,
            instances: view.instances.into_iter().map(instance_row).collect(),
            billing: view.billing,
            chart_w: CHART_W,
            chart_h: CHART_H,
        },
        StatusCode::OK,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_busiest_day_and_segments_add_up() {
        let days = vec![("a".to_owned(), 0), ("b".into(), 2), ("c".into(), 4)];
        let (bars, most) = bars(&days);
        assert_eq!(most, 4);
        assert_eq!(bars[2].height, CHART_H);
        assert_eq!(bars[1].height, CHART_H / 2);
        assert_eq!(bars[0].height, 0);
        assert_eq!(bars[1].label, "b: 2");
        let row = instance_row(InstanceBindings {
            id: crate::ids::IntegrationId::FIRST,
            name: "CW".into(),
            states: vec![("bound", 3), ("pending", 1)],
            total: 4,
        });
        assert_eq!(row.segments[0].percent, 75);
        assert_eq!(row.segments[1].offset, 75);
    }
}
