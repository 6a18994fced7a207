using System.Text.Json.Nodes;
using MemoryNet.Data;
using Microsoft.OpenApi;

namespace MemoryNet.Cli.Serve;

/// <summary>
/// What the OpenAPI document says about POST /v1/restore and POST /v1/jobs beyond what the route declares: its
/// multipart form and its PNG answer. (Declaring the form with Accepts() would make routing refuse other content types
/// before the handler can answer them with its own 400.)
/// </summary>
static class OpenApiDocs
{
    /// <param name="jobs">POST /v1/jobs: the form without the PNG answer (a job answers 202 with JSON).</param>
    public static void DescribeRestore(OpenApiOperation op, bool jobs = false)
    {
        static OpenApiSchema Text(string description, params string[] values)
        {
            var schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = description };
            if (values.Length > 0) schema.Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v)!)];
            return schema;
        }
        var form = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "image" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["image"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String, Format = "binary", Description = "The photo: PNG, JPEG, BMP or WebP"
                },
                ["task"] = Text("Use the bundled model for this task", [.. RestorationTasks.Names]),
                ["model"] = Text("A model name from GET /v1/models (instead of task)"),
                ["bits"] = Text("PNG depth of the answer (default: 16 for a 16-bit input, else 8)", "8", "16"),
                ["format"] = Text("Format of the answer (default png)", "png", "jpg", "webp"),
                ["ensemble"] = Text("Test-time self-ensemble (default none): flips averages 4 passes (identity, " +
                    "both mirrors, half turn), x8 all 8 flips and rotations; 4 or 8 times the time", "none", "flips",
                    "x8"),
                ["quality"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Integer, Minimum = "1", Maximum = "100",
                    Description = "JPEG/WebP quality (default 95)"
                },
            },
        };
        op.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType> { ["multipart/form-data"] = new() { Schema = form } },
        };
        if (jobs) return;
        op.Responses ??= new OpenApiResponses();
        op.Responses["200"] = new OpenApiResponse
        {
            Description = "The restored image",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["image/png"] =
                    new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                ["image/jpeg"] =
                    new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                ["image/webp"] =
                    new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
            },
        };
    }
}
