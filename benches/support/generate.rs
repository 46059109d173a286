//! Generated repositories of any size: small TypeScript files in packages of
//! a thousand, valid or holding syntax errors, so that a benchmark can
//! measure how cost grows with the number of files alone.

use std::path::Path;

/// What each generated file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// Valid code: an interface, a class, functions, a constant.
    Clean,
    /// The same, with syntax errors at this many separate places.
    Broken { sites: usize },
}

impl Content {
    pub fn label(self) -> String {
        match self {
            Content::Clean => "clean".to_owned(),
            Content::Broken { sites: 1 } => "1 error site".to_owned(),
            Content::Broken { sites } => format!("{sites} error sites"),
        }
    }
}

/// Writes `files` files under `dir` and returns their total size in bytes.
pub fn repository(dir: &Path, files: usize, content: Content) -> std::io::Result<u64> {
    let mut bytes = 0;
    for i in 0..files {
        let package = dir.join(format!("packages/p{:03}/src", i / 1000));
        if i % 1000 == 0 {
            std::fs::create_dir_all(&package)?;
        }
        let text = file_text(i, content);
        bytes += text.len() as u64;
        std::fs::write(package.join(format!("module{i}.ts")), text)?;
    }
    Ok(bytes)
}

fn file_text(i: usize, content: Content) -> String {
    let mut text = format!(
        "import {{ helper }} from \"../../shared/helper\";\n\n\
         export interface Item{i} {{\n  id: number;\n  name: string;\n  tags: string[];\n}}\n\n\
         export class Service{i} {{\n  private items: Item{i}[] = [];\n\n\
         \x20 add(item: Item{i}): void {{\n    this.items.push(item);\n  }}\n\n\
         \x20 find(id: number): Item{i} | undefined {{\n    return this.items.find((x) => x.id === id);\n  }}\n}}\n\n\
         export function compute{i}(a: number, b: number): number {{\n  const total = a * b + {i};\n  return helper(total);\n}}\n\n\
         export const config{i} = {{ retries: 3, timeout: 1000 }};\n"
    );
    if let Content::Broken { sites } = content {
        for site in 0..sites {
            // A missing `)`, then valid code, so each site stands alone.
            text.push_str(&format!(
                "\nexport function broken{site}(a: number {{\n  return a + {site};\n}}\n\n\
                 export function fine{site}(b: number): number {{\n  return b * {site};\n}}\n"
            ));
        }
    }
    text
}
