//! The signals that end the command like Ctrl-C: SIGINT, SIGTERM (CI cancellation, systemd,
//! container runtimes) and SIGHUP (a closed terminal) on unix; Ctrl-C, Ctrl-Break, closing the
//! console window, logoff and shutdown on Windows.

use std::fmt;

/// Which signal arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Signal {
    /// Ctrl-C (SIGINT on unix).
    Interrupt,
    /// SIGTERM.
    #[cfg_attr(not(unix), allow(dead_code))]
    Terminate,
    /// SIGHUP.
    #[cfg_attr(not(unix), allow(dead_code))]
    HangUp,
    /// Ctrl-Break, closing the console, logoff or shutdown (Windows).
    #[cfg_attr(not(windows), allow(dead_code))]
    Close,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Interrupt => "Ctrl-C",
            Self::Terminate => "SIGTERM",
            Self::HangUp => "SIGHUP",
            Self::Close => "a console close or shutdown event",
        })
    }
}

/// The listeners, installed when made (so a signal that arrives early is not lost).
pub(super) struct Signals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hang_up: Option<tokio::signal::unix::Signal>,
    #[cfg(windows)]
    windows: Option<WindowsSignals>,
}

#[cfg(windows)]
struct WindowsSignals {
    ctrl_break: tokio::signal::windows::CtrlBreak,
    ctrl_close: tokio::signal::windows::CtrlClose,
    ctrl_logoff: tokio::signal::windows::CtrlLogoff,
    ctrl_shutdown: tokio::signal::windows::CtrlShutdown,
}

impl Signals {
    /// Install the listeners; one that cannot be installed is left out.
    pub(super) fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                terminate: signal(SignalKind::terminate()).ok(),
                hang_up: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(windows)]
        {
            use tokio::signal::windows;
            let installed = (|| -> std::io::Result<WindowsSignals> {
                Ok(WindowsSignals {
                    ctrl_break: windows::ctrl_break()?,
                    ctrl_close: windows::ctrl_close()?,
                    ctrl_logoff: windows::ctrl_logoff()?,
                    ctrl_shutdown: windows::ctrl_shutdown()?,
                })
            })();
            Self {
                windows: installed.ok(),
            }
        }
        #[cfg(not(any(unix, windows)))]
        {
            Self {}
        }
    }

    /// The next signal.
    pub(super) async fn next(&mut self) -> Signal {
        let interrupt = async {
            match tokio::signal::ctrl_c().await {
                Ok(()) => Signal::Interrupt,
                Err(_) => std::future::pending().await,
            }
        };
        #[cfg(unix)]
        {
            let terminate = recv(self.terminate.as_mut(), Signal::Terminate);
            let hang_up = recv(self.hang_up.as_mut(), Signal::HangUp);
            tokio::select! {
                signal = interrupt => signal,
                signal = terminate => signal,
                signal = hang_up => signal,
            }
        }
        #[cfg(windows)]
        {
            let Some(windows) = self.windows.as_mut() else {
                return interrupt.await;
            };
            tokio::select! {
                signal = interrupt => signal,
                _ = windows.ctrl_break.recv() => Signal::Close,
                _ = windows.ctrl_close.recv() => Signal::Close,
                _ = windows.ctrl_logoff.recv() => Signal::Close,
                _ = windows.ctrl_shutdown.recv() => Signal::Close,
            }
        }
        #[cfg(not(any(unix, windows)))]
        {
            interrupt.await
        }
    }
}

#[cfg(unix)]
async fn recv(listener: Option<&mut tokio::signal::unix::Signal>, signal: Signal) -> Signal {
    match listener {
        Some(listener) => match listener.recv().await {
            Some(()) => signal,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}
