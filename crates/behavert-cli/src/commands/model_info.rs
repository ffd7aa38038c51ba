//! `behavert model-info`: what a checkpoint (or a model size) is.

use anyhow::Context;
use behavert::checkpoint::load_checkpoint;
use behavert::model::{Architecture, BehavErt, HeadConfig, ModelConfig};
use burn::module::Module;
use burn::tensor::Device;

use crate::cli::ModelInfoArgs;

/// Prints the config and parameter count.
pub fn run(args: &ModelInfoArgs, device: &Device) -> anyhow::Result<()> {
    let (model, origin) = match (&args.checkpoint, &args.size) {
        (Some(dir), _) => (
            load_checkpoint(dir, device)
                .with_context(|| format!("cannot load the checkpoint in {}", dir.display()))?,
            dir.display().to_string(),
        ),
        (None, Some(size)) => {
            let architecture = Architecture::preset(*size)?;
            let heads = vec![
                HeadConfig::frame("frame", 4),
                HeadConfig::sequence("sequence", 2),
            ];
            let config = ModelConfig::new(&architecture, args.input_dim, heads);
            (
                BehavErt::new(&config, device)?,
                format!("a fresh {} model", size.name()),
            )
        }
        (None, None) => unreachable!("clap requires a checkpoint or --size"),
    };
    let parameters = model.num_params();
    if args.json {
        let mut value = serde_json::to_value(&model.config)?;
        value["parameters"] = parameters.into();
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let config = &model.config;
    println!("{origin}");
    println!(
        "  encoder     {} layers, {} wide, {} heads, feed-forward {}",
        config.num_hidden_layers,
        config.hidden_size,
        config.num_attention_heads,
        config.intermediate_size
    );
    println!(
        "  input       {} features per frame, clips of up to {} frames",
        config.input_dim,
        config.max_frames()
    );
    for head in config.heads() {
        println!(
            "  head        {} ({:?}, {:?}, {} outputs)",
            head.name, head.level, head.kind, head.outputs
        );
    }
    println!(
        "  parameters  {parameters} ({:.2} M)",
        parameters as f64 / 1e6
    );
    Ok(())
}
