//! Command-line values shared by the commands of the binary and `sprx sweep` (which lives in
//! the library), so that the same flag is checked the same way everywhere.

use sprx::engine::budget::parse_size;

/// `--threads N`: at least 1 (the default, all cores, is the flag's absence).
pub fn parse_threads(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("at least 1 thread is needed (omit --threads to use all cores)".to_string()),
        Ok(n) if n <= MAX_THREADS => Ok(n),
        Ok(_) => Err(format!("at most {MAX_THREADS} threads")),
        Err(_) => Err(format!("`{text}` is not a number of threads")),
    }
}

/// More threads than any machine sprx runs on has cores; a typo beyond it would only start a
/// pool that exhausts the process's thread limit.
pub const MAX_THREADS: usize = 4096;

/// `--max-memory SIZE`: e.g. 16G, 512M (powers of 1024).
pub fn parse_max_memory(text: &str) -> Result<u64, String> {
    parse_size(text)
}

/// `--max-memory SIZE`, shared by the commands that simulate.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct MemoryArgs {
    /// Memory the run may use, e.g. 16G (K, M, G, T are powers of 1024). Default: what the
    /// system has available (MemAvailable, or the cgroup's limit, e.g. a Slurm job's --mem).
    /// A run whose estimated peak exceeds it is refused before it starts.
    #[arg(long, value_name = "SIZE", env = "SPRX_MAX_MEMORY", value_parser = parse_max_memory)]
    pub max_memory: Option<u64>,
}

impl MemoryArgs {
    pub fn budget(&self) -> sprx::engine::budget::MemoryBudget {
        sprx::engine::budget::MemoryBudget::new(self.max_memory)
    }
}
