namespace PackageSearch;

/// <summary>One Debian package's English description: the one-line synopsis and the long description.</summary>
public sealed record PackageDescription(string Package, string Synopsis, string Description);
