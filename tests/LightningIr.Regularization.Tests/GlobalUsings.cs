global using FluentAssertions;
global using TorchSharp;
global using Xunit;
global using static TorchSharp.torch;
global using LightningIr.Regularization.TestSupport;
