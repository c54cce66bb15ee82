//! The picker's state and what each key does: pure logic, no terminal (unit-tested below).
//!
//! Keys. Typing always filters (fzf's way): letters (`q`, `j` and `k` too), digits and
//! punctuation go to the filter line. Moving: arrows, PgUp/PgDn, Home/End, Ctrl-P/Ctrl-N and
//! Ctrl-K/Ctrl-J. Space or Tab marks a row (several can be marked; the count of marks is always
//! on screen, also of marks the filter hides); Enter shows the plan for the marked rows, or the
//! highlighted one; `y` runs it, anything else goes back. While it runs, `k` (or `9`, `!`)
//! sends SIGKILL at once. Ctrl-A switches between your processes and everyone's; Ctrl-U clears
//! the filter; Esc (or Ctrl-C) leaves without touching anything.

use std::collections::BTreeSet;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::filter::Filter;
use super::rows::Row;

/// What is on the screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screen {
    /// The list of processes.
    List,
    /// The plan, and the question.
    Confirm(Vec<String>),
    /// The kill engine at work: what has ended so far, and the progress line.
    Running {
        /// One line per target as it ends.
        lines: Vec<String>,
        /// Who is still alive and how long the step has left.
        progress: String,
        /// SIGKILL was asked for.
        forced: bool,
        /// How many targets have not ended yet.
        left: usize,
    },
    /// The result, until a key is pressed.
    Done(Vec<String>),
}

/// What the loop must do after a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond redrawing.
    Nothing,
    /// Leave.
    Quit,
    /// Plan the kill of [`App::picked`] and ask.
    Plan,
    /// The answer was yes: run the plan.
    Run,
    /// Send SIGKILL now.
    Force,
    /// Read the processes again (after the owner toggle, or back from a result).
    Refresh,
}

/// The picker's state.
pub struct App {
    /// Every row read, in the reader's order.
    pub rows: Vec<Row>,
    /// The filter line as typed.
    pub filter_text: String,
    /// The parsed filter.
    pub filter: Filter,
    /// Indices into `rows` that pass the filter, best first.
    pub shown: Vec<usize>,
    /// Index into `shown` of the highlighted row.
    pub cursor: usize,
    /// Marked processes, by identity (pid, start time).
    pub marked: BTreeSet<(u32, u64)>,
    /// Everyone's processes, not only the caller's.
    pub everyone: bool,
    /// Whether the owner toggle does anything (not for root, who sees everyone's).
    pub can_toggle: bool,
    /// What is on the screen.
    pub screen: Screen,
    /// A line for the user (an error, a hint), shown above the keys.
    pub message: Option<String>,
    /// Where the highlighted process came from (`reaper why` for it), on its own line.
    pub origin: Option<String>,
    /// Listening sockets whose process cannot be seen: what an empty `:PORT` filter explains.
    pub hidden: Vec<reaper::Socket>,
    /// Index into `shown` of the first row on screen (the view keeps the cursor in sight).
    offset: std::cell::Cell<usize>,
}

impl App {
    /// An empty picker; `root` sees everyone's processes.
    pub fn new(root: bool) -> App {
        App {
            rows: Vec::new(),
            filter_text: String::new(),
            filter: Filter::All,
            shown: Vec::new(),
            cursor: 0,
            marked: BTreeSet::new(),
            everyone: root,
            can_toggle: !root,
            screen: Screen::List,
            message: None,
            origin: None,
            hidden: Vec::new(),
            offset: std::cell::Cell::new(0),
        }
    }

    /// Replaces the rows (a refresh), keeping the highlighted process where it still is, and
    /// dropping marks of processes that are gone.
    pub fn set_rows(&mut self, rows: Vec<Row>) {
        let keep = self.current().map(|r| (r.pid, r.start_ticks));
        self.rows = rows;
        let alive: BTreeSet<(u32, u64)> = self.rows.iter().map(|r| (r.pid, r.start_ticks)).collect();
        self.marked.retain(|k| alive.contains(k));
        self.refilter(keep);
    }

    /// Applies the filter again, keeping `keep` highlighted when it still shows.
    fn refilter(&mut self, keep: Option<(u32, u64)>) {
        self.filter = Filter::parse(&self.filter_text);
        let mut scored: Vec<(i64, usize)> =
            self.rows.iter().enumerate().filter_map(|(i, r)| Some((self.filter.score(r)?, i))).collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        self.shown = scored.into_iter().map(|(_, i)| i).collect();
        self.cursor = keep
            .and_then(|k| self.shown.iter().position(|&i| (self.rows[i].pid, self.rows[i].start_ticks) == k))
            .unwrap_or(self.cursor)
            .min(self.shown.len().saturating_sub(1));
    }

    /// The highlighted row.
    pub fn current(&self) -> Option<&Row> {
        self.shown.get(self.cursor).map(|&i| &self.rows[i])
    }

    /// Why a `:PORT` filter shows nothing although the port is held: its holder cannot be
    /// seen (another user's, for a caller who is not root), with what to run instead.
    pub fn hidden_holder(&self) -> Option<&reaper::Socket> {
        let Filter::Port(spec) = &self.filter else { return None };
        if !self.shown.is_empty() {
            return None;
        }
        self.hidden.iter().find(|s| spec.contains(s.local_port) && spec.admits(s.proto))
    }

    /// The rows of `shown` on a screen of `height` rows: the window moves only as far as it
    /// must to keep the cursor in sight. Only these rows are drawn.
    pub fn window(&self, height: usize) -> std::ops::Range<usize> {
        let len = self.shown.len();
        let mut off = self.offset.get().min(len.saturating_sub(height));
        if self.cursor < off {
            off = self.cursor;
        } else if height > 0 && self.cursor >= off + height {
            off = self.cursor + 1 - height;
        }
        self.offset.set(off);
        off..(off + height).min(len)
    }

    /// How many marked rows the filter hides.
    pub fn marked_hidden(&self) -> usize {
        if self.marked.is_empty() {
            return 0;
        }
        let shown: BTreeSet<(u32, u64)> =
            self.shown.iter().map(|&i| (self.rows[i].pid, self.rows[i].start_ticks)).collect();
        self.marked.iter().filter(|k| !shown.contains(k)).count()
    }

    /// What Enter acts on: the marked rows, or else the highlighted one.
    pub fn picked(&self) -> Vec<&Row> {
        if self.marked.is_empty() {
            self.current().into_iter().collect()
        } else {
            self.rows.iter().filter(|r| self.marked.contains(&(r.pid, r.start_ticks))).collect()
        }
    }

    fn filter_changed(&mut self) {
        self.cursor = 0;
        self.refilter(None);
    }

    fn move_by(&mut self, delta: isize) {
        let last = self.shown.len().saturating_sub(1);
        self.cursor = self.cursor.saturating_add_signed(delta).min(last);
    }

    /// Handles one key press.
    pub fn key(&mut self, key: KeyEvent) -> Action {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') && !matches!(self.screen, Screen::Running { .. }) {
            return Action::Quit;
        }
        match &mut self.screen {
            Screen::List => self.list_key(key, ctrl),
            Screen::Confirm(_) => {
                if matches!(key.code, KeyCode::Char('y' | 'Y')) {
                    Action::Run
                } else {
                    self.screen = Screen::List;
                    self.message = Some("nothing signalled".into());
                    Action::Nothing
                }
            }
            Screen::Running { forced, .. } => match key.code {
                KeyCode::Char('k' | 'K' | '9' | '!') if !*forced => {
                    *forced = true;
                    Action::Force
                }
                _ => Action::Nothing,
            },
            Screen::Done(_) => match key.code {
                KeyCode::Esc | KeyCode::Char('q') => Action::Quit,
                _ => {
                    self.screen = Screen::List;
                    self.marked.clear();
                    Action::Refresh
                }
            },
        }
    }

    fn list_key(&mut self, key: KeyEvent, ctrl: bool) -> Action {
        self.message = None;
        match key.code {
            KeyCode::Esc => return Action::Quit,
            KeyCode::Enter if !ctrl => {
                return if self.picked().is_empty() { Action::Nothing } else { Action::Plan };
            }
            KeyCode::Up => self.move_by(-1),
            KeyCode::Down => self.move_by(1),
            KeyCode::PageUp => self.move_by(-10),
            KeyCode::PageDown => self.move_by(10),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.move_by(isize::MAX),
            KeyCode::Char(' ') | KeyCode::Tab => {
                if let Some(r) = self.current() {
                    let k = (r.pid, r.start_ticks);
                    if !self.marked.remove(&k) {
                        self.marked.insert(k);
                    }
                    self.move_by(1);
                }
            }
            KeyCode::Backspace => {
                self.filter_text.pop();
                self.filter_changed();
            }
            KeyCode::Char(c) if ctrl => match c {
                'p' | 'k' => self.move_by(-1),
                'n' | 'j' => self.move_by(1),
                'u' => {
                    self.filter_text.clear();
                    self.filter_changed();
                }
                'a' if self.can_toggle => {
                    self.everyone = !self.everyone;
                    return Action::Refresh;
                }
                _ => {}
            },
            KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::ALT) => {
                let _ = c;
            }
            KeyCode::Char(c) => {
                self.filter_text.push(c);
                self.filter_changed();
            }
            _ => {}
        }
        Action::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pid: u32, cmd: &str) -> Row {
        Row {
            pid,
            start_ticks: u64::from(pid) * 10,
            user: "root".into(),
            age: std::time::Duration::ZERO,
            cpu: None,
            rss: 0,
            ports: Vec::new(),
            command: cmd.into(),
            short: cmd.into(),
            haystack: cmd.to_lowercase().into(),
        }
    }

    fn press(app: &mut App, code: KeyCode) -> Action {
        app.key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn typed(app: &mut App, text: &str) {
        for c in text.chars() {
            press(app, KeyCode::Char(c));
        }
    }

    #[test]
    fn typing_always_filters_and_ctrl_keys_move() {
        let mut app = App::new(true);
        app.set_rows(vec![row(10, "java server"), row(20, "kafka"), row(30, "qemu-system")]);
        assert_eq!(app.shown.len(), 3);
        assert_eq!(press(&mut app, KeyCode::Char('q')), Action::Nothing, "q is typed, not a way out");
        assert_eq!(app.filter_text, "q");
        assert_eq!(app.shown.len(), 1);
        typed(&mut app, "j");
        assert_eq!(app.filter_text, "qj", "j is typed, not a move");
        press(&mut app, KeyCode::Backspace);
        press(&mut app, KeyCode::Backspace);
        typed(&mut app, "k");
        assert_eq!(app.filter_text, "k");
        press(&mut app, KeyCode::Backspace);
        assert_eq!(app.shown.len(), 3);
        let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
        app.key(ctrl('j'));
        assert_eq!(app.current().map(|r| r.pid), Some(20));
        app.key(ctrl('n'));
        assert_eq!(app.current().map(|r| r.pid), Some(30));
        app.key(ctrl('k'));
        app.key(ctrl('p'));
        assert_eq!(app.cursor, 0);
        assert_eq!(press(&mut app, KeyCode::Esc), Action::Quit);
        assert_eq!(app.key(ctrl('c')), Action::Quit);
    }

    #[test]
    fn the_window_follows_the_cursor() {
        let mut app = App::new(true);
        app.set_rows((1..=100).map(|p| row(p, "x")).collect());
        assert_eq!(app.window(10), 0..10);
        app.cursor = 15;
        assert_eq!(app.window(10), 6..16);
        app.cursor = 8;
        assert_eq!(app.window(10), 6..16, "moving up inside the window does not scroll");
        app.cursor = 2;
        assert_eq!(app.window(10), 2..12);
        app.set_rows((1..=5).map(|p| row(p, "x")).collect());
        assert_eq!(app.window(10), 0..5);
    }

    #[test]
    fn marks_hidden_by_the_filter_are_counted() {
        let mut app = App::new(true);
        app.set_rows(vec![row(10, "alpha"), row(20, "beta")]);
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.marked.len(), 1);
        assert_eq!(app.marked_hidden(), 0);
        typed(&mut app, "beta");
        assert_eq!(app.marked_hidden(), 1, "alpha is marked and filtered out");
    }

    #[test]
    fn space_marks_several_and_enter_plans_them() {
        let mut app = App::new(true);
        app.set_rows(vec![row(10, "a"), row(20, "b"), row(30, "c")]);
        press(&mut app, KeyCode::Char(' '));
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Char(' '));
        assert_eq!(app.picked().iter().map(|r| r.pid).collect::<Vec<_>>(), [10, 30]);
        assert_eq!(press(&mut app, KeyCode::Enter), Action::Plan);
        app.screen = Screen::Confirm(vec![]);
        assert_eq!(press(&mut app, KeyCode::Char('n')), Action::Nothing);
        assert_eq!(app.screen, Screen::List, "anything but y goes back");
        // A refresh drops marks of processes that are gone.
        app.set_rows(vec![row(10, "a"), row(20, "b")]);
        assert_eq!(app.picked().iter().map(|r| r.pid).collect::<Vec<_>>(), [10]);
    }

    #[test]
    fn the_force_key_works_once_while_running() {
        let mut app = App::new(false);
        app.screen = Screen::Running { lines: vec![], progress: String::new(), forced: false, left: 1 };
        assert_eq!(press(&mut app, KeyCode::Esc), Action::Nothing, "a running kill is not left");
        assert_eq!(press(&mut app, KeyCode::Char('k')), Action::Force);
        assert_eq!(press(&mut app, KeyCode::Char('k')), Action::Nothing);
        assert_eq!(app.key(KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL)), Action::Nothing);
        app.screen = Screen::List;
        assert_eq!(app.key(KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL)), Action::Refresh);
        assert!(app.everyone);
    }
}
