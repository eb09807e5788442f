//! Questions on a terminal: pick one of a numbered list, or confirm.
//!
//! std only (see docs/adr/0008-a-std-only-prompt.md): `init` asks at most two questions, each
//! a choice among a handful of Coolify apps, and must never ask one in CI. A prompt reads whole
//! lines from any [`BufRead`] and writes to any [`Write`], so tests drive it with byte buffers.

use std::io::{BufRead, IsTerminal as _, Write};

use crate::process_env::ProcessEnv;

/// Something that can ask the user.
pub trait Ask: Send {
    /// Ask `question`, offering `options` numbered from 1; an empty answer takes `default`.
    /// Returns the index into `options`.
    ///
    /// # Errors
    ///
    /// When the terminal cannot be read or written, or closes before an answer.
    fn choose(
        &mut self,
        question: &str,
        options: &[String],
        default: Option<usize>,
    ) -> std::io::Result<usize>;
}

/// A prompt over a reader and a writer.
#[derive(Debug)]
pub(crate) struct LinePrompt<R, W> {
    input: R,
    output: W,
}

impl<R: BufRead, W: Write> LinePrompt<R, W> {
    /// A prompt that reads answers from `input` and writes questions to `output`.
    pub fn new(input: R, output: W) -> Self {
        Self { input, output }
    }
}

impl LinePrompt<std::io::BufReader<std::io::Stdin>, std::io::Stderr> {
    /// The process's terminal, when there is one to ask on: stdin and stderr are terminals,
    /// and the environment is not CI.
    pub fn terminal(environment: &ProcessEnv) -> Option<Self> {
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        (interactive && !environment.is_ci())
            .then(|| Self::new(std::io::BufReader::new(std::io::stdin()), std::io::stderr()))
    }
}

impl<R: BufRead + Send, W: Write + Send> Ask for LinePrompt<R, W> {
    fn choose(
        &mut self,
        question: &str,
        options: &[String],
        default: Option<usize>,
    ) -> std::io::Result<usize> {
        writeln!(self.output, "{question}")?;
        for (index, option) in options.iter().enumerate() {
            let marker = if Some(index) == default {
                " (default)"
            } else {
                ""
            };
            writeln!(self.output, "  {}) {option}{marker}", index + 1)?;
        }
        loop {
            match default {
                Some(index) => write!(self.output, "number [{}]: ", index + 1)?,
                None => write!(self.output, "number: ")?,
            }
            self.output.flush()?;
            let mut line = String::new();
            if self.input.read_line(&mut line)? == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the terminal closed before an answer",
                ));
            }
            let answer = line.trim();
            if answer.is_empty()
                && let Some(index) = default
            {
                return Ok(index);
            }
            match answer.parse::<usize>() {
                Ok(number) if (1..=options.len()).contains(&number) => return Ok(number - 1),
                _ => writeln!(
                    self.output,
                    "`{answer}` is not one of 1 to {}; type a number",
                    options.len()
                )?,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(input: &str, default: Option<usize>) -> (std::io::Result<usize>, String) {
        let mut output = Vec::new();
        let options = ["api-staging".to_owned(), "api-production".to_owned()];
        let result = LinePrompt::new(input.as_bytes(), &mut output).choose(
            "Which app is staging?",
            &options,
            default,
        );
        (result, String::from_utf8(output).unwrap())
    }

    #[test]
    fn an_empty_answer_takes_the_default() {
        let (result, output) = ask("\n", Some(1));
        assert_eq!(result.unwrap(), 1);
        assert!(output.contains("  2) api-production (default)"), "{output}");
    }

    #[test]
    fn a_wrong_answer_asks_again() {
        let (result, output) = ask("7\nx\n1\n", None);
        assert_eq!(result.unwrap(), 0);
        assert!(output.contains("`7` is not one of 1 to 2"), "{output}");
        assert!(output.contains("`x` is not one of 1 to 2"), "{output}");
    }

    #[test]
    fn a_closed_terminal_is_an_error_not_a_choice() {
        let (result, _) = ask("", Some(0));
        assert_eq!(
            result.unwrap_err().kind(),
            std::io::ErrorKind::UnexpectedEof
        );
    }
}
