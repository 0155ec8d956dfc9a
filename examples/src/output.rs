//! Terminal output for the demo: sections, notes and aligned tables, in colour
//! only when stdout is a terminal (and `NO_COLOR` is unset).

use std::{fmt::Write as _, io::IsTerminal};

/// How text is decorated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    colour: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    pub fn detect() -> Self {
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            colour: std::io::stdout().is_terminal() && !no_colour,
        }
    }

    /// Plain text, never coloured.
    pub fn plain() -> Self {
        Self { colour: false }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Bold.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Dimmed, for secondary details.
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Green, for what went well.
    pub fn good(self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Cyan, for names of things.
    pub fn name(self, text: &str) -> String {
        self.paint("36", text)
    }

    /// Yellow, for what needs a look.
    pub fn warn(self, text: &str) -> String {
        self.paint("33", text)
    }

    /// A section heading, preceded by a blank line.
    pub fn section(self, title: &str) -> String {
        format!("\n{}", self.bold(&format!("▸ {title}")))
    }
}

/// A table printed with aligned columns, indented by two spaces.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra cells are dropped.
    pub fn row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).collect();
        row.resize(self.headers.len(), String::new());
        self.rows.push(row);
        self
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, headers dimmed, one line per row, no trailing spaces.
    pub fn render(&self, style: Style) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|column| {
                std::iter::once(&self.headers)
                    .chain(&self.rows)
                    .filter_map(|row| row.get(column))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut text = String::from(" ");
            for (cell, width) in cells.iter().zip(&widths) {
                let _ = write!(text, " {cell:<width$} ");
            }
            text.trim_end().to_string()
        };
        let mut out = style.dim(&line(&self.headers));
        for row in &self.rows {
            out.push('\n');
            out.push_str(&line(row));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned_to_the_widest_cell() {
        let mut table = Table::new(["NAME", "N"]);
        table.row(["a", "1"]).row(["longer", "22"]);
        assert_eq!(
            table.render(Style::plain()),
            "  NAME    N\n  a       1\n  longer  22"
        );
    }

    #[test]
    fn short_rows_are_padded_and_long_rows_cut() {
        let mut table = Table::new(["A", "B"]);
        table.row(["x"]).row(["y", "z", "dropped"]);
        assert_eq!(table.render(Style::plain()), "  A  B\n  x\n  y  z");
    }

    #[test]
    fn plain_style_adds_no_escape_codes() {
        let style = Style::plain();
        assert_eq!(style.bold("x"), "x");
        assert_eq!(style.section("Title"), "\n▸ Title");
    }
}
