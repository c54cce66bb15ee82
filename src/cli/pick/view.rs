//! Drawing the picker with ratatui: a header, the filter line, the list (or the plan, the
//! progress, the result), and the keys. ratatui draws into a buffer and writes only the cells
//! that changed since the last frame, so a refresh does not flicker. Colour only when `color`
//! (`--color`, `NO_COLOR`); without it, emphasis is bold and reverse video.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row as TableRow, Table, TableState, Wrap};

use super::app::{App, Screen};
use super::rows::{self, Row};
use crate::cli::output;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App, color: bool) {
    let [head, filter, body, foot] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Min(1), Constraint::Length(3)])
            .areas(frame.area());
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let whose = if app.everyone { "everyone's" } else { "yours" };
    // The marks are always counted, also those the filter hides (fzf's `(2)`).
    let hidden = app.marked_hidden();
    let hidden = if hidden > 0 { format!(", {hidden} not shown by the filter") } else { String::new() };
    let title = format!(
        "reaper pick: {} of {} processes ({whose}); {} marked{hidden}",
        app.shown.len(),
        app.rows.len(),
        app.marked.len()
    );
    frame.render_widget(Paragraph::new(Line::styled(title, bold)), head);
    let cursor = if matches!(app.screen, Screen::List) { "_" } else { "" };
    let filter_line = Line::from(vec![
        Span::styled("filter> ", bold),
        Span::raw(output::sanitize(&app.filter_text)),
        Span::raw(cursor),
    ]);
    frame.render_widget(Paragraph::new(filter_line), filter);
    match &app.screen {
        Screen::List => list(frame, app, body, color),
        Screen::Confirm(lines) => text(frame, lines, body, color),
        Screen::Running { lines, progress, .. } => {
            let mut all = lines.clone();
            if !progress.is_empty() {
                all.push(progress.clone());
            }
            text(frame, &all, body, color);
        }
        Screen::Done(lines) => text(frame, lines, body, color),
    }
    let keys = match &app.screen {
        Screen::List if foot.width < 100 => {
            let toggle = if app.can_toggle { " ^A:all" } else { "" };
            format!("type:filter ^J/^K:move space:mark enter:kill esc:quit{toggle}")
        }
        Screen::List => {
            let toggle = if app.can_toggle { " | ^A everyone's/yours" } else { "" };
            format!(
                "type to filter (:PORT, PID, name) | arrows ^J/^K move | space mark | enter kill | esc quit{toggle}"
            )
        }
        Screen::Confirm(_) => "y: kill | any other key: back".to_string(),
        Screen::Running { forced: false, .. } => "k: SIGKILL now".to_string(),
        Screen::Running { forced: true, .. } => "SIGKILL asked for".to_string(),
        Screen::Done(_) => "enter: back to the list | esc/q: quit".to_string(),
    };
    let mut foot_lines = Vec::new();
    if let Some(m) = &app.message {
        let style = if color { Style::new().fg(Color::Yellow) } else { bold };
        foot_lines.push(Line::styled(m.clone(), style));
    } else if let super::filter::Filter::Bad(m) = &app.filter {
        foot_lines.push(Line::styled(m.clone(), bold));
    } else if let (Screen::List, Some(s)) = (&app.screen, app.hidden_holder()) {
        let style = if color { Style::new().fg(Color::Yellow) } else { bold };
        let user = reaper::user_name(s.uid).map_or_else(|| format!("uid {}", s.uid), |u| output::sanitize(&u));
        let line = if reaper::caller_uid() == 0 {
            format!("{} port {} is held by a process of {user} that is not visible here", s.proto, s.local_port)
        } else {
            format!(
                "{} port {} is held by {user}'s process, which only root sees: sudo reaper pick",
                s.proto, s.local_port
            )
        };
        foot_lines.push(Line::styled(output::truncate(&line, usize::from(foot.width)), style));
    } else if let (Screen::List, Some(r)) = (&app.screen, app.current()) {
        // The detail line: the highlighted process's whole command line, path and all.
        let detail = format!("{}: {}", r.pid, r.command);
        foot_lines.push(Line::raw(output::truncate(&detail, usize::from(foot.width))));
    } else {
        foot_lines.push(Line::raw(""));
    }
    // The origin of the highlighted process: who started it, who would restart it.
    let origin = app.origin.as_deref().filter(|_| app.screen == Screen::List).unwrap_or_default();
    foot_lines.push(Line::raw(output::truncate(origin, usize::from(foot.width))));
    foot_lines.push(Line::styled(keys, Style::new().add_modifier(Modifier::DIM)));
    frame.render_widget(Paragraph::new(foot_lines), foot);
}

/// From this width the list shows whole command lines, paths and all; below it the executable's
/// base name and the arguments (the whole line is on the detail line).
const FULL_COMMAND_WIDTH: u16 = 160;

/// The process list: the columns that fit the width (USER and MEM from 80 columns, CPU from 64),
/// PID and USER as wide as their widest value.
fn list(frame: &mut Frame<'_>, app: &App, area: Rect, color: bool) {
    let w = area.width;
    let wide = w >= 80;
    let full = w >= FULL_COMMAND_WIDTH;
    // Only the rows on screen are built (and measured): a refresh of thousands of processes
    // formats a screenful.
    let window = app.window(usize::from(area.height.saturating_sub(1)));
    let visible = &app.shown[window.clone()];
    let widest = |f: &dyn Fn(&Row) -> usize| visible.iter().map(|&i| f(&app.rows[i])).max().unwrap_or(0);
    // One more than the digits: the mark.
    let pid_width = (widest(&|r| r.pid.to_string().len()) + 1).max(3) as u16;
    let user_width = widest(&|r| r.user.chars().count()).clamp(4, 8) as u16;
    let cpu = w >= 64;
    let ports_width = widest(&|r| r.ports_text().chars().count()).clamp(5, if wide { 24 } else { 12 }) as u16;
    let mut header = vec!["PID"];
    let mut widths = vec![Constraint::Length(pid_width)];
    if wide {
        header.push("USER");
        widths.push(Constraint::Length(user_width));
    }
    header.push("AGE");
    widths.push(Constraint::Length(5));
    if cpu {
        header.push("CPU%");
        widths.push(Constraint::Length(5));
    }
    if wide {
        header.push("MEM");
        widths.push(Constraint::Length(6));
    }
    header.push("PORTS");
    widths.push(Constraint::Length(ports_width));
    header.push("COMMAND");
    widths.push(Constraint::Fill(1));
    let mark_style = if color { Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD) } else { Style::new() };
    let port_style = if color { Style::new().fg(Color::Cyan) } else { Style::new() };
    let rows: Vec<TableRow<'_>> = visible
        .iter()
        .map(|&i| {
            let r: &Row = &app.rows[i];
            let marked = app.marked.contains(&(r.pid, r.start_ticks));
            let pid = format!("{}{}", if marked { "*" } else { " " }, r.pid);
            let mut cells = vec![Cell::from(pid).style(if marked { mark_style } else { Style::new() })];
            if wide {
                cells.push(Cell::from(output::truncate(&r.user, usize::from(user_width))));
            }
            cells.push(Cell::from(output::age(r.age)));
            if cpu {
                cells.push(Cell::from(r.cpu.map_or_else(|| "-".to_string(), |c| format!("{c:.0}"))));
            }
            if wide {
                cells.push(Cell::from(rows::memory(r.rss)));
            }
            cells.push(Cell::from(output::truncate(&r.ports_text(), usize::from(ports_width))).style(port_style));
            cells.push(Cell::from(if full { &*r.command } else { &*r.short }));
            TableRow::new(cells)
        })
        .collect();
    let highlight = if color {
        Style::new().bg(Color::Blue).fg(Color::White).add_modifier(Modifier::BOLD)
    } else {
        Style::new().add_modifier(Modifier::REVERSED)
    };
    let table = Table::new(rows, widths)
        .header(TableRow::new(header).style(Style::new().add_modifier(Modifier::BOLD)))
        .column_spacing(1)
        .row_highlight_style(highlight);
    let selected = (!visible.is_empty()).then(|| app.cursor.saturating_sub(window.start));
    let mut state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, area, &mut state);
}

/// Lines of text (the plan, the progress, the result), wrapped to the width, the newest at the
/// bottom when they do not all fit. Outcome words are coloured as `reaper kill` colours them.
fn text(frame: &mut Frame<'_>, lines: &[String], area: Rect, color: bool) {
    let styled: Vec<Line<'_>> = lines
        .iter()
        .map(|l| {
            let style = match () {
                _ if !color => Style::new(),
                _ if l.contains("survived") || l.contains("denied") || l.contains("held by") => {
                    Style::new().fg(Color::Red)
                }
                _ if l.contains("killed") => Style::new().fg(Color::Yellow),
                _ if l.contains("exited") || l.ends_with(": free") => Style::new().fg(Color::Green),
                _ => Style::new(),
            };
            Line::styled(l.clone(), style)
        })
        .collect();
    let height = usize::from(area.height);
    let skip = styled.len().saturating_sub(height);
    let shown: Vec<Line<'_>> = styled.into_iter().skip(skip).collect();
    frame.render_widget(Paragraph::new(shown).wrap(Wrap { trim: false }), area);
}
